package demo;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.eval.Bounds;
import org.aiwae.eval.Sample;
import org.aiwae.model.MlpVae;
import org.aiwae.objective.Aiwae;
import org.aiwae.sampler.Schedule;
import org.aiwae.train.TrainingStep;

/** Trains the paper's model with AIWAE for a few steps on random binary data and prints L_50 before and after. */
public final class Demo {
    public static void main(String[] args) {
        RandomStream rng = new RandomStream(0);
        MlpVae model = MlpVae.create(784, 200, 50, rng);
        Tensor x = rng.uniform(64, 784);
        for (int i = 0; i < x.size(); i++) {
            x.data()[i] = x.data()[i] < 0.13f ? 1 : 0;
        }
        double before = Sample.of(Bounds.iwae(model, x, 50, 50, new RandomStream(1))).mean();
        TrainingStep step = new TrainingStep(model, new Aiwae(5, 5, 5, Schedule.linear(), Backends.cpu()));
        for (int i = 0; i < 20; i++) {
            step.run(x, rng, 1e-3);
        }
        double after = Sample.of(Bounds.iwae(model, x, 50, 50, new RandomStream(1))).mean();
        System.out.printf("L_50 %.2f -> %.2f%n", before, after);
        if (!(after > before)) {
            throw new IllegalStateException("training did not improve the bound");
        }
    }
}
