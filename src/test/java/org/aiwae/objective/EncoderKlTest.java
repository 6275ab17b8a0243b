package org.aiwae.objective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.aiwae.data.Binarizer;
import org.aiwae.data.Datasets;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.eval.Sample;
import org.aiwae.model.DiagonalGaussian;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.MlpVae;
import org.aiwae.model.Posterior;
import org.aiwae.sampler.Schedule;
import org.junit.jupiter.api.Test;

/** The two estimates of AIWAE's encoder objective: same ELBO in expectation, the closed-form KL with less noise. */
class EncoderKlTest {
    private static final int IMAGES = 4, DRAWS = 4000, LATENT = 8;

    /** The paper's model with q(z|x) pulled away from the prior, so that the KL term is large and noisy when sampled. */
    private static MlpVae model() {
        MlpVae m = MlpVae.create(784, 64, LATENT, new RandomStream(7));
        java.util.Arrays.fill(m.namedParameters().get("enc.mu.bias").value().data(), 1.0f);
        java.util.Arrays.fill(m.namedParameters().get("enc.logsigma.bias").value().data(), -1.5f);
        return m;
    }

    private static Tensor images() {
        return Binarizer.sample(Datasets.embedded().test().slice(0, IMAGES), new RandomStream(3));
    }

    @Test
    void bothEstimateTheSameElboAndTheClosedFormKlHasTheLowerVariance() {
        MlpVae model = model();
        Var x = Var.constant(images());
        float[] analytic, sample;
        try (NoGrad ignored = NoGrad.enter()) {
            Posterior q = model.posterior(x);
            Var z = q.sample(new RandomStream(11).normal(DRAWS, IMAGES, LATENT));
            analytic = EncoderKl.ANALYTIC.elbo(model, x, q, z).value().toArray();
            sample = EncoderKl.SAMPLE.elbo(model, x, q, z).value().toArray();
        }
        for (int b = 0; b < IMAGES; b++) {
            double[] a = column(analytic, b), s = column(sample, b), d = new double[DRAWS];
            for (int i = 0; i < DRAWS; i++) {
                d[i] = s[i] - a[i]; // log p(z) - log q(z|x) + KL: zero mean when both estimate the same ELBO
            }
            double standardError = Math.sqrt(variance(d) / DRAWS);
            assertTrue(Math.abs(mean(d)) < 4 * standardError, "image " + b + ": means differ by " + mean(d)
                    + " nats, standard error " + standardError);
            assertTrue(Math.abs(mean(s) - mean(a)) < 4 * Math.sqrt((variance(s) + variance(a)) / DRAWS), "image " + b);
            assertTrue(variance(a) < 0.8 * variance(s), "image " + b + ": variance analytic " + variance(a)
                    + " vs sampled " + variance(s));
        }
    }

    @Test
    void closedFormKlIsTheGaussianKlToTheStandardNormal() {
        MlpVae model = model();
        Var x = Var.constant(images());
        try (NoGrad ignored = NoGrad.enter()) {
            DiagonalGaussian q = model.posterior(x);
            Var z = q.sample(new RandomStream(5).normal(1, IMAGES, LATENT));
            float[] elbo = EncoderKl.ANALYTIC.elbo(model, x, q, z).value().toArray();
            float[] logLik = Ops.bernoulliLogProb(model.decode(z), x).value().toArray();
            float[] mu = q.mu().value().toArray(), ls = q.logSigma().value().toArray();
            for (int b = 0; b < IMAGES; b++) {
                double kl = 0;
                for (int j = 0; j < LATENT; j++) {
                    double m = mu[b * LATENT + j], s = ls[b * LATENT + j];
                    kl += 0.5 * (m * m + Math.exp(2 * s) - 1) - s;
                }
                assertEquals(logLik[b] - kl, elbo[b], 1e-3 * Math.abs(elbo[b]));
            }
        }
    }

    @Test
    void aiwaeTrainsItsEncoderWithEitherAndRefusesAnalyticWithoutAClosedForm() {
        Tensor x = images();
        for (EncoderKl kl : EncoderKl.values()) {
            MlpVae model = model();
            Aiwae aiwae = new Aiwae(2, 3, 2, Schedule.linear(), Backends.cpu(), kl);
            model.inferenceParameters().forEach(Var::zeroGrad);
            Objective.StepResult r = aiwae.step(model, x, new RandomStream(9));
            assertTrue(Double.isFinite(r.encoderLoss()), kl + ": encoder loss " + r.encoderLoss());
            float[] g = model.namedParameters().get("enc.mu.bias").grad().toArray();
            assertTrue(java.util.Arrays.stream(box(g)).anyMatch(v -> v != 0), kl + ": the encoder gets a gradient");
        }
        LatentVariableModel noClosedForm = new LatentVariableModel() {
            final MlpVae inner = model();

            public int latentDim() {
                return inner.latentDim();
            }

            public int dataDim() {
                return inner.dataDim();
            }

            public java.util.List<Var> generativeParameters() {
                return inner.generativeParameters();
            }

            public java.util.List<Var> inferenceParameters() {
                return inner.inferenceParameters();
            }

            public Var logJoint(Var xv, Var z) {
                return inner.logJoint(xv, z);
            }

            public Posterior posterior(Var xv) {
                return inner.posterior(xv);
            }

            public java.util.Map<String, Var> namedParameters() {
                return inner.namedParameters();
            }
        };
        Aiwae analytic = new Aiwae(2, 3, 2, Schedule.linear(), Backends.cpu(), EncoderKl.ANALYTIC);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> analytic.step(noClosedForm, x, new RandomStream(9)));
        assertTrue(e.getMessage().contains("closed-form KL"), e.getMessage());
        assertEquals(EncoderKl.SAMPLE, EncoderKl.parse("sample"));
        assertThrows(IllegalArgumentException.class, () -> EncoderKl.parse("exact"));
    }

    private static Float[] box(float[] a) {
        Float[] out = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    private static double[] column(float[] v, int b) {
        double[] out = new double[DRAWS];
        for (int i = 0; i < DRAWS; i++) {
            out[i] = v[i * IMAGES + b];
        }
        return out;
    }

    private static double mean(double[] v) {
        return Sample.of(v).mean();
    }

    private static double variance(double[] v) {
        double sd = Sample.of(v).sd();
        return sd * sd;
    }
}
