package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.aiwae.data.Binarizer;
import org.aiwae.data.Datasets;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.MlpVae;
import org.aiwae.objective.EncoderKl;
import org.aiwae.plot.RunCurves;
import org.aiwae.train.CheckpointReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, {@code aiwae train}, shortened to 5 of its 20 epochs (everything else
 * its defaults: AIWAE K=5 T=5 L=5, closed-form KL, batch 20, learning rate from 3e-3, the embedded
 * data), ends with a model that uses its latent code: each test digit is reconstructed better from
 * its own code than from the other digits' codes, and the held-out bound beats the mean image.
 */
class DefaultRecipeTest {
    private static final int DIGITS = 8;

    @TempDir
    Path dir;

    @Test
    void reconstructionsDependOnTheInput() throws Exception {
        Path run = dir.resolve("run");
        CliRun trained = CliRun.of("train", "--epochs", "5", "--out", run.toString());
        assertEquals(0, trained.status(), trained.err());
        CheckpointReader.Loaded<MlpVae> loaded = CheckpointReader.readModel(run);
        assertEquals(20, loaded.config().batchSize(), "the embedded recipe's batch");
        assertEquals(3e-3, loaded.config().learningRate(), 1e-12);
        assertEquals(EncoderKl.ANALYTIC, loaded.config().encoderKl());

        RunCurves curves = RunCurves.read(run);
        double bound = curves.testBound()[curves.testBound().length - 1];
        assertTrue(bound > curves.meanImageBound() + 10, "L_50 " + bound + " vs mean image " + curves.meanImageBound());

        // -log p(x_i | z = mu_j): reconstruction error of test digit i decoded from digit j's posterior mean
        MlpVae model = loaded.model();
        Tensor x = Binarizer.sample(Datasets.embedded().test().slice(0, DIGITS), new RandomStream(1));
        double[][] error = new double[DIGITS][DIGITS];
        try (NoGrad ignored = NoGrad.enter()) {
            Var mu = model.posterior(Var.constant(x)).mu();
            Var logits = model.decode(mu);
            for (int j = 0; j < DIGITS; j++) {
                Var lj = Var.constant(logits.value().rows(j, j + 1));
                float[] ll = Ops.bernoulliLogProb(lj, Var.constant(x)).value().toArray(); // digit j's code, every digit i
                for (int i = 0; i < DIGITS; i++) {
                    error[i][j] = -ll[i];
                }
            }
        }
        double own = 0, other = 0;
        int better = 0;
        for (int i = 0; i < DIGITS; i++) {
            double others = 0;
            for (int j = 0; j < DIGITS; j++) {
                if (j != i) {
                    others += error[i][j] / (DIGITS - 1);
                }
            }
            own += error[i][i] / DIGITS;
            other += others / DIGITS;
            better += error[i][i] < others ? 1 : 0;
        }
        System.out.printf("default recipe, 5 epochs: L_50 %.1f, mean image %.1f; reconstruction error own code %.1f, other %.1f nats, %d of %d better%n",
                bound, curves.meanImageBound(), own, other, better, DIGITS);
        assertTrue(own < other - 20, "own code " + own + " nats vs another digit's " + other);
        assertTrue(better >= DIGITS - 1, better + " of " + DIGITS + " digits reconstruct better from their own code");
    }
}
