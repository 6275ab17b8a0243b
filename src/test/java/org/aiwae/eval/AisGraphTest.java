package org.aiwae.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.kernels.DeviceBackend;
import org.aiwae.kernels.DeviceWork;
import org.aiwae.kernels.OnEveryDevice;
import org.aiwae.kernels.TestBackends;
import org.aiwae.kernels.TestData;
import org.aiwae.model.Annealer;
import org.aiwae.model.MlpVae;
import org.aiwae.model.Posterior;
import org.aiwae.sampler.Ais;
import org.aiwae.sampler.HmcState;
import org.aiwae.sampler.Schedule;
import org.aiwae.sampler.StepSizes;

/**
 * AIS on a device with one temperature recorded and replayed for the others equals running every temperature
 * directly, bit for bit: every chain's position, log-densities, gradients, log weight and its compensation, the
 * step sizes, the acceptance counts and divergences, the streams' position after the run, and the evaluation's
 * per-image log-likelihoods. A replayed temperature is one replay with no host read or write; the run writes the
 * schedule once.
 */
class AisGraphTest {
    private static final int IMAGES = 3, CHAINS = 4, TEMPERATURES = 20, LEAPFROG = 3;

    /** What a run leaves: every tensor of the final state, the sizes, counts and divergences, and the streams' position. */
    private record Run(List<float[]> tensors, long position, DeviceWork work) {}

    private static Run anneal(DeviceBackend be, MlpVae model, Tensor x, boolean graphs) {
        int[] images = {4, 9, 2};
        ChainNoise.PerGroup noise = new ImageStreams(7, 0).group(ImageStreams.Phase.AIS, images);
        StepSizes sizes = StepSizes.ais(IMAGES, 0.05f);
        double[] betas = Schedule.linear().betas(TEMPERATURES);
        try (Annealer annealer = new Annealer(model, LEAPFROG).graphs(graphs); NoGrad ignored = NoGrad.enter()) {
            Posterior q = model.posterior(Var.constant(x));
            Tensor z0 = q.sample(noise.normal(be, CHAINS, model.latentDim())).value();
            DeviceWork before = be.work();
            Ais.Result r = annealer.run(x, q, z0, CHAINS, betas, sizes, noise, null);
            DeviceWork work = be.work().since(before);
            HmcState s = r.state().chains();
            List<float[]> out = new ArrayList<>(List.of(s.position().toArray(), r.state().logWeight().toArray(),
                    r.state().compensation().toArray(), r.acceptedCounts().toArray(), r.divergent().toArray(), sizes.toArray()));
            s.logDensities().forEach(t -> out.add(t.toArray()));
            s.gradients().forEach(t -> out.add(t.toArray()));
            return new Run(out, noise.position(), work);
        }
    }

    @OnEveryDevice
    void aRecordedTemperatureReplaysAsRunningEachDirectly(String name) {
        DeviceBackend be = TestBackends.device(name);
        MlpVae model = MlpVae.create(784, 32, 5, new RandomStream(4)).to(be);
        Tensor x = TestData.binary(new RandomStream(3), IMAGES, 784, 0.2f).to(be);
        anneal(be, model, x, false); // warm: kernels compiled, pool filled
        Run direct = anneal(be, model, x, false), replayed = anneal(be, model, x, true);
        String[] names = {"positions", "log weights", "compensations", "acceptance counts", "divergences", "step sizes",
                "log q", "log p(x, z)", "grad log q", "grad log p(x, z)"};
        assertEquals(names.length, direct.tensors().size());
        for (int i = 0; i < names.length; i++) {
            assertArrayEquals(direct.tensors().get(i), replayed.tensors().get(i), name + ": " + names[i] + " after replays");
        }
        assertEquals(direct.position(), replayed.position(), "the streams' position after the run");
        assertEquals(0, direct.work().replays());
        assertEquals(TEMPERATURES - 2, replayed.work().replays(), "temperature 1 directly, 2.." + (TEMPERATURES - 1) + " replayed: "
                + replayed.work());
        assertEquals(direct.work().hostWrites() + 1, replayed.work().hostWrites(), "the schedule goes up once: " + replayed.work());
        assertEquals(direct.work().hostReads(), replayed.work().hostReads(), "nothing read back in the loop: " + replayed.work());
        System.err.println(name + " AIS run of " + TEMPERATURES + " temperatures, directly: " + direct.work() + "; replayed: " + replayed.work());
    }

    @OnEveryDevice
    void theEvaluationsLogLikelihoodsAreTheSameWithGraphsOnAndOff(String name) {
        DeviceBackend be = TestBackends.device(name);
        MlpVae model = MlpVae.create(784, 32, 5, new RandomStream(4));
        Tensor x = TestData.binary(new RandomStream(3), 5, 784, 0.2f);
        Evaluator on = new Evaluator(CHAINS, TEMPERATURES, LEAPFROG, 1, 2, be); // batches of 2, 2 and 1 images
        double[] replayed = on.logLikelihood(model, x, 11), direct = on.withGraphs(false).logLikelihood(model, x, 11);
        assertArrayEquals(direct, replayed, name + ": per-image log p(x)");
    }
}
