package org.aiwae.bench;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.MlpVae;
import org.aiwae.objective.Aiwae;
import org.aiwae.objective.Iwae;
import org.aiwae.objective.Objective;
import org.aiwae.sampler.Schedule;
import org.aiwae.train.TrainingStep;
import org.openjdk.jmh.annotations.*;

/**
 * Purpose: one whole training step of the paper's model, gradients and both Adam updates
 * included: AIWAE with K=5, T=5, L=5 on a 128-image minibatch, and IWAE with K=5 and K=50 on
 * 20 images (the paper's batch sizes). examples/s = ops/s x batch. The model, its Adam moments and the
 * minibatch live on the backend, as in training.
 *
 * <p>{@code config} is {@code method:K:T:L:batch}.
 */
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TrainingStepBenchmark extends OnBackend {

    @Param({"aiwae:5:5:5:128", "iwae:5:1:1:20", "iwae:50:1:1:20"})
    public String config;

    private TrainingStep step;
    private Tensor x;
    private RandomStream rng;

    @Setup
    public void setup() {
        open();
        String[] c = config.split(":");
        int k = Integer.parseInt(c[1]), t = Integer.parseInt(c[2]), l = Integer.parseInt(c[3]), batch = Integer.parseInt(c[4]);
        rng = new RandomStream(9);
        MlpVae model = MlpVae.create(784, 200, 50, rng).to(be); // the Adam moments follow the parameters
        Objective objective = c[0].equals("aiwae") ? new Aiwae(k, t, l, Schedule.linear(), be) : new Iwae(k);
        step = new TrainingStep(model, objective);
        x = ModelFixture.binary(rng, batch).to(be);
    }


    /** Frees what the backend holds on a device (opencl, cuda). */
    @TearDown
    public void tearDown() {
        step.close();
        be.close();
    }


    /** One step, waited for: its loss is read (on a device the step itself reads nothing back and would still be queued). */
    @Benchmark
    public double step() {
        return step.run(x, rng, 1e-4).loss();
    }
}
