package org.aiwae.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Function;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.kernels.DeviceBackend;
import org.aiwae.kernels.DeviceWork;
import org.aiwae.kernels.OnEveryDevice;
import org.aiwae.kernels.TestBackends;
import org.aiwae.kernels.TestData;
import org.aiwae.model.MlpVae;
import org.aiwae.objective.Aiwae;
import org.aiwae.objective.Iwae;
import org.aiwae.objective.Objective;
import org.aiwae.sampler.Schedule;

/**
 * A training step on a device recorded once and replayed equals the same step run directly, bit for bit:
 * every loss, parameter, Adam moment and step size, over steps with different random streams, a change of
 * learning rate and a short minibatch between full ones (which runs directly and is recorded again after).
 * A replayed step reads nothing back and writes the host's minibatch and stream key in one write.
 */
class TrainingStepGraphTest {

    @OnEveryDevice
    void aiwaeStepReplayedEqualsItRunDirectly(String name) {
        DeviceBackend be = TestBackends.device(name);
        sameSteps(be, model -> new Aiwae(3, 4, 2, Schedule.linear(), be));
    }

    @OnEveryDevice
    void iwaeStepReplayedEqualsItRunDirectly(String name) {
        sameSteps(TestBackends.device(name), model -> new Iwae(4));
    }

    private static void sameSteps(DeviceBackend be, Function<MlpVae, Objective> objective) {
        MlpVae a = MlpVae.create(784, 32, 6, new RandomStream(4)).to(be), b = MlpVae.create(784, 32, 6, new RandomStream(4)).to(be);
        try (TrainingStep direct = new TrainingStep(a, objective.apply(a)).graphs(false);
             TrainingStep replayed = new TrainingStep(b, objective.apply(b))) {
            RandomStream data = new RandomStream(5);
            long replays = 0;
            for (int i = 0; i < 7; i++) {
                Tensor x = TestData.binary(data, i == 4 ? 5 : 12, 784, 0.13f);
                RandomStream rng = new RandomStream(9, 100 + i, 0);
                double lr = i < 3 ? 1e-3 : 3e-4;
                Objective.StepResult r1 = direct.run(x, rng, lr);
                DeviceWork before = be.work();
                Objective.StepResult r2 = replayed.run(x, new RandomStream(9, 100 + i, 0), lr);
                DeviceWork step = be.work().since(before);
                assertEquals(0, step.hostReads(), "step " + i + ": " + step);
                replays += step.replays();
                if (step.replays() == 1) { // the minibatch and the key at once, and each optimiser's new rate where it changed
                    assertEquals(i == 3 ? 3 : 1, step.hostWrites(), "host writes of replayed step " + i + ": " + step);
                }
                assertEquals(r1.loss(), r2.loss(), "loss at step " + i);
                assertEquals(r1.encoderLoss(), r2.encoderLoss(), "encoder loss at step " + i);
                assertArrayEquals(r1.acceptance(), r2.acceptance(), "acceptance at step " + i);
            }
            assertTrue(replays >= 3, "full minibatches after the first of their shape are replayed: " + replays);
            same(a.generativeParameters(), b.generativeParameters());
            same(a.inferenceParameters(), b.inferenceParameters());
            for (int i = 0; i < direct.generative().firstMoments().length; i++) {
                assertArrayEquals(direct.generative().firstMoments()[i].toArray(), replayed.generative().firstMoments()[i].toArray());
                assertArrayEquals(direct.inference().secondMoments()[i % direct.inference().secondMoments().length].toArray(),
                        replayed.inference().secondMoments()[i % replayed.inference().secondMoments().length].toArray());
            }
            assertEquals(direct.generative().steps(), replayed.generative().steps());
            assertEquals(direct.objective().state().keySet(), replayed.objective().state().keySet());
            direct.objective().state().forEach((k, v) -> assertArrayEquals(v.toArray(), replayed.objective().state().get(k).toArray(), k));
        }
    }

    private static void same(List<Var> p, List<Var> q) {
        for (int i = 0; i < p.size(); i++) {
            assertArrayEquals(p.get(i).value().toArray(), q.get(i).value().toArray(), "parameter " + i);
        }
    }
}
