package org.aiwae.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.IntFunction;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.eval.Evaluator;
import org.aiwae.eval.ImageStreams;
import org.aiwae.kernels.DeviceBackend;
import org.aiwae.kernels.OnEveryBackend;
import org.aiwae.kernels.OnEveryDevice;
import org.aiwae.kernels.TestBackends;
import org.aiwae.kernels.TestData;
import org.aiwae.kernels.DeviceWork;
import org.aiwae.model.MlpVae;
import org.aiwae.objective.Aiwae;
import org.aiwae.objective.Iwae;
import org.aiwae.objective.Objective;
import org.aiwae.objective.Vae;
import org.aiwae.sampler.Schedule;
import org.aiwae.train.TrainingStep;

/**
 * Whole algorithms on every backend against the CPU backend with the same seed, from one source:
 * {@code cpu} itself, {@code opencl} (PoCL in CI, where {@code AIWAE_REQUIRE_OPENCL} makes it
 * mandatory) and {@code cuda} (where a driver and a GPU exist; skipped with the reason otherwise):
 * {@link OnEveryBackend}, opened by {@link TestBackends}.
 * The model and the minibatch live on the backend, so every op of a training step (encoder,
 * decoder, log-densities, gradients, Adam) runs there; the random numbers are the same Philox
 * streams, drawn on the device. Runs differ by float32 rounding only (the device sums in other orders).
 */
class BackendParityTest {
    @OnEveryBackend
    void aisLogLikelihoodsMatchTheCpu(String name) {
        Backend be = TestBackends.get(name);
        MlpVae model = MlpVae.create(784, 200, 50, new RandomStream(1));
        Tensor x = TestData.binary(new RandomStream(3), 12, 784, 0.2f);
        double[] cpu = new Evaluator(8, 30, 5, 1, 100, Backends.cpu()).logLikelihood(model, x, 2);
        double[] dev = new Evaluator(8, 30, 5, 1, 100, be).logLikelihood(model, x, 2);
        for (int i = 0; i < cpu.length; i++) {
            // the device anneals with the same Philox momenta and uniforms: measured |difference| 3.6e-5 nats on PoCL
            assertEquals(cpu[i], dev[i], 1e-3, "image " + i + ": cpu " + cpu[i] + " " + name + " " + dev[i]);
        }
    }

    /** Losses of {@code steps} training steps and the decoder's output weights after them, model and data on {@code be}. */
    private static Object[] train(Backend be, IntFunction<Objective> objective, int steps) {
        MlpVae model = MlpVae.create(784, 64, 10, new RandomStream(4)).to(be);
        double[] losses = new double[2 * steps];
        try (TrainingStep step = new TrainingStep(model, objective.apply(0))) {
            Tensor x = TestData.binary(new RandomStream(5), 16, 784, 0.2f).to(be);
            for (int s = 0; s < steps; s++) {
                Objective.StepResult r = step.run(x, new RandomStream(6, s, 0), 1e-3);
                losses[2 * s] = r.loss();
                losses[2 * s + 1] = r.encoderLoss();
            }
        }
        Tensor w = model.namedParameters().get("dec.out.weight").value();
        assertSame(be.isHost() ? Placement.HOST : be, w.placement(), "the parameters stay on the backend");
        return new Object[] {losses, w.toArray(), model.namedParameters().get("enc.l1.weight").value().toArray()};
    }

    private static void sameTraining(String name, IntFunction<Objective> cpuObjective, IntFunction<Objective> devObjective) {
        Backend be = TestBackends.get(name);
        Object[] cpu = train(Backends.cpu(), cpuObjective, 4), dev = train(be, devObjective, 4);
        double[] lc = (double[]) cpu[0], ld = (double[]) dev[0];
        for (int s = 0; s < lc.length; s++) {
            assertEquals(lc[s], ld[s], 1e-3 * Math.abs(lc[s]), name + ": loss " + (s % 2 == 0 ? "" : "(encoder) ") + "at step " + s / 2);
        }
        for (int p = 1; p <= 2; p++) {
            float[] a = (float[]) cpu[p], b = (float[]) dev[p];
            double maxDiff = 0;
            for (int i = 0; i < a.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
            }
            assertTrue(maxDiff < 1e-3, name + ": " + (p == 1 ? "decoder" : "encoder") + " weights after 4 steps differ by " + maxDiff);
        }
    }

    @OnEveryBackend
    void aiwaeTrainingStepsMatchTheCpu(String name) {
        Backend be = TestBackends.get(name);
        sameTraining(name, i -> new Aiwae(3, 3, 2, Schedule.linear(), Backends.cpu()), i -> new Aiwae(3, 3, 2, Schedule.linear(), be));
    }

    @OnEveryBackend
    void iwaeAndVaeTrainingStepsMatchTheCpu(String name) {
        sameTraining(name, i -> new Iwae(5), i -> new Iwae(5));
        sameTraining(name, i -> new Vae(2), i -> new Vae(2));
    }

    /**
     * Nothing falls back to the host in a training step on a device, and nothing comes back: the losses gate
     * Adam there, the step sizes adapt there, and the only host write is the step's random stream key (the
     * minibatch is already on the device here; from the host it goes up with the key in the same write). A
     * fallback of any op (there are dozens of products per step) would add copies of whole activations.
     */
    @OnEveryDevice
    void aTrainingStepOnADeviceCopiesOnlyWhatTheHostMustSee(String name) {
        DeviceBackend be = TestBackends.device(name);
        int k = 5, t = 5, batch = 16;
        MlpVae model = MlpVae.create(784, 64, 10, new RandomStream(4)).to(be);
        Tensor x = TestData.binary(new RandomStream(5), batch, 784, 0.2f).to(be);
        try (TrainingStep iwae = new TrainingStep(model, new Iwae(k));
             TrainingStep aiwae = new TrainingStep(model, new Aiwae(k, t, 2, Schedule.linear(), be))) {
            iwae.run(x, new RandomStream(1), 1e-3); // warm: kernels compiled, pool filled
            DeviceWork before = be.work();
            iwae.run(x, new RandomStream(2), 1e-3);
            DeviceWork step = be.work().since(before);
            System.err.println(name + " IWAE step K=" + k + " batch " + batch + ": " + step);
            assertEquals(1, step.hostWrites(), "IWAE step: the stream key alone goes up (the minibatch is on the device): " + step);
            assertEquals(4, step.floatsWritten(), "IWAE step: " + step);
            assertEquals(0, step.hostReads(), "IWAE step: nothing comes back: " + step);

            for (boolean graphs : new boolean[] {false, true}) { // run directly, then recorded (step 2) and replayed (step 3)
                aiwae.graphs(graphs);
                aiwae.run(x, new RandomStream(1), 1e-3);
                aiwae.run(x, new RandomStream(2), 1e-3);
                before = be.work();
                long allocations = be.pool().deviceAllocations();
                aiwae.run(x, new RandomStream(3), 1e-3);
                step = be.work().since(before);
                assertEquals(allocations, be.pool().deviceAllocations(), "a step reuses the last one's buffers: " + be.pool());
                assertEquals(graphs ? 1 : 0, step.replays(), "AIWAE step: " + step);
            }
            System.err.println(name + " AIWAE step K=" + k + " T=" + t + " batch " + batch + ": " + step);
            assertEquals(1, step.hostWrites(), "AIWAE step: the stream key alone goes up: " + step);
            assertEquals(4, step.floatsWritten(), "AIWAE step: " + step);
            assertEquals(0, step.hostReads(), "AIWAE step: the step sizes adapt and the losses gate Adam on the device: " + step);
        }
    }

    /**
     * An AIS temperature of {@code aiwae eval} on a device (with the progress callback the command line gives) reads
     * nothing back and writes nothing up: the step sizes adapt and the acceptance is counted in device memory, and the
     * progress of a temperature is reported without waiting for the device. The work of one temperature is the
     * difference between evaluations of 21 and 11 temperatures, over the 10 temperatures between.
     */
    @OnEveryDevice
    void anAisTemperatureOnADeviceReadsNothingBack(String name) {
        DeviceBackend be = TestBackends.device(name);
        MlpVae model = MlpVae.create(784, 64, 10, new RandomStream(4));
        Tensor x = TestData.binary(new RandomStream(3), 4, 784, 0.2f);
        DeviceWork[] work = new DeviceWork[2];
        long[] reported = new long[2];
        int[] temperatures = {11, 21};
        new Evaluator(4, 3, 2, 1, 100, be).logLikelihood(model, x, 2); // warm: kernels compiled, pool filled
        for (int r = 0; r < 2; r++) {
            int run = r;
            DeviceWork before = be.work();
            new Evaluator(4, temperatures[r], 10, 1, 100, be).logLikelihood(model, x, new ImageStreams(2, 0),
                    new int[] {0, 1, 2, 3}, done -> reported[run] = done);
            work[r] = be.work().since(before);
        }
        assertEquals(4L * 20, reported[1], "progress: every image-temperature reported");
        DeviceWork perTemperature = work[1].since(work[0]);
        System.err.println(name + " AIS temperature (4 chains x 4 images, L=10): " + perTemperature.perStep(10));
        assertEquals(0, perTemperature.hostReads(), "an AIS temperature reads nothing back: " + perTemperature.perStep(10));
        assertEquals(0, perTemperature.hostWrites(), "an AIS temperature writes nothing up: " + perTemperature.perStep(10));
    }
}
