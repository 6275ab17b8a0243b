package org.aiwae.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.math.LogMeanExp;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.examples.FactorModel;
import org.aiwae.kernels.OnEveryBackend;
import org.aiwae.kernels.TestBackends;
import org.aiwae.model.Linear;
import org.aiwae.model.MlpVae;

/**
 * The evaluation estimators against models whose log p(x) is known exactly: a linear-Gaussian
 * factor model (closed form) and the paper's MLP with a 2-d latent (quadrature on a fine grid), each
 * estimator run with the model and the data on every backend ({@link OnEveryBackend}); the references
 * (closed form, quadrature) are computed on the CPU.
 */
class EstimatorTest {

    private static double mean(double[] v) {
        return Sample.of(v).mean();
    }

    private static double maxAbsDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /** log p(x) of each row by the midpoint rule on [-r, r]^2 with step h: log-mean-exp over the g^2 cells, in double. */
    static double[] quadrature(MlpVae model, Tensor x, double r, double h) {
        int g = (int) Math.round(2 * r / h), b = x.dim(0);
        LogMeanExp[] cells = new LogMeanExp[b];
        java.util.Arrays.setAll(cells, n -> new LogMeanExp());
        try (NoGrad ignored = NoGrad.enter()) {
            for (int i = 0; i < g; i++) { // one grid column at a time: z [g, B, 2]
                float[] z = new float[g * b * 2];
                for (int j = 0; j < g; j++) {
                    for (int n = 0; n < b; n++) {
                        z[(j * b + n) * 2] = (float) (-r + (i + 0.5) * h);
                        z[(j * b + n) * 2 + 1] = (float) (-r + (j + 0.5) * h);
                    }
                }
                float[] lp = model.logJoint(Var.constant(x), Var.constant(Tensor.of(z, g, b, 2))).value().toArray();
                for (int k = 0; k < lp.length; k++) {
                    cells[k % b].add(lp[k]);
                }
            }
        }
        double[] out = new double[b];
        for (int n = 0; n < b; n++) { // sum_cells p(x, z) h^2 = mean_cells p(x, z) * (g h)^2
            out[n] = cells[n].value() + 2 * Math.log(g * h);
        }
        return out;
    }

    /** A random linear-Gaussian factor model (6 pixels, 2 factors) from {@code seed}, {@code n} images it generates and their exact log p(x). */
    private record Factors(FactorModel model, Tensor x, double[] exact) {
        static Factors random(long seed, int n) {
            RandomStream rng = new RandomStream(seed);
            FactorModel model = FactorModel.random(6, 2, rng);
            Tensor x = model.sample(n, rng);
            return new Factors(model, x, model.exactLogMarginal(x));
        }
    }

    @OnEveryBackend
    void aisMatchesTheClosedFormOfALinearGaussianModel(String backend) {
        Backend be = TestBackends.get(backend);
        Factors f = Factors.random(11, 12);
        double[] exact = f.exact();
        double[] ais = new Evaluator(64, 1000, 10, 1, 100, be).logLikelihood(f.model().to(be), f.x().to(be), 12);
        // Tolerance: with this untrained encoder the chains' log weights at 1,000 temperatures have a
        // variance of about 0.12 on the worst image (measured with 400 chains), so the log-mean-exp of
        // 64 chains has a spread of about sqrt(0.12 / 64) = 0.04 per image and 0.013 on the mean of 12
        // images; 0.15 per image and 0.05 on the mean are over 3.5 of those spreads.
        assertEquals(mean(exact), mean(ais), 0.05, "mean log p(x)");
        assertTrue(maxAbsDiff(exact, ais) < 0.15, "per-image AIS error " + maxAbsDiff(exact, ais));
    }

    @OnEveryBackend
    void iwaeBoundsStayBelowLogPAndRiseWithK(String backend) {
        Backend be = TestBackends.get(backend);
        Factors f = Factors.random(21, 50);
        double exact = mean(f.exact());
        FactorModel there = f.model().to(be);
        Tensor xThere = f.x().to(be);
        double previous = Double.NEGATIVE_INFINITY, first = Double.NaN;
        for (int k : new int[] {1, 10, 100, 1000}) {
            double lk = mean(Bounds.iwae(there, xThere, k, 100, new RandomStream(22)));
            assertTrue(lk > previous, "L_" + k + " = " + lk + " should exceed the previous bound " + previous);
            assertTrue(lk < exact, "L_" + k + " = " + lk + " should stay below log p(x) = " + exact);
            previous = lk;
            first = k == 1 ? lk : first;
        }
        assertTrue(exact - previous < 0.2 * (exact - first), "L_1000 should close most of L_1's gap: " + (exact - first)
                + " -> " + (exact - previous));
    }

    @OnEveryBackend
    void aisMatchesQuadratureOnTheMlpWithATwoDimensionalLatent(String backend) {
        Backend be = TestBackends.get(backend);
        RandomStream rng = new RandomStream(41);
        MlpVae model = MlpVae.create(30, 24, 2, rng); // a fused-kernel model: the AIS path runs the fused decoder
        Tensor x = rng.uniform(6, 30);
        float[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = d[i] < 0.4f ? 1 : 0;
        }
        double[] exact = quadrature(model, x, 8, 0.02); // the reference, on the CPU
        double[] ais = new Evaluator(16, 500, 10, 1, 100, be).logLikelihood(model.to(be), x.to(be), 42); // model and images on be
        // The grid (step 0.02 on [-8, 8]^2) agrees with a grid of step 0.04 to 1e-8, so it is exact for
        // this purpose; an untrained decoder's posterior is close to the prior, so AIS errors measure
        // under 0.01 here and 0.05 leaves room without hiding a wrong path.
        assertTrue(maxAbsDiff(exact, ais) < 0.05, "per-image AIS error " + maxAbsDiff(exact, ais));
    }

    @OnEveryBackend
    void activeUnitsCountDimensionsWhoseMeanVariesAcrossData(String backend) {
        Backend be = TestBackends.get(backend);
        // Encoder means mu_h = s_h * x_0 + 1: A_h = s_h^2 Var(x_0). With Var(x_0) near 1, the scales
        // below give activities 1, 0.25, 0.04, 0.0025, 0: three units above the 0.01 threshold.
        float[] s = {1f, 0.5f, 0.2f, 0.05f, 0f};
        int data = 4, latent = s.length;
        float[] w = new float[latent * data];
        float[] bias = new float[latent];
        for (int h = 0; h < latent; h++) {
            w[h * data] = s[h];
            bias[h] = 1;
        }
        RandomStream rng = new RandomStream(51);
        FactorModel model = new FactorModel(Linear.init("dec", latent, data, rng), Var.param(Tensor.zeros(data)),
                new Linear("enc.mu", Var.param(Tensor.of(w, latent, data)), Var.param(Tensor.of(bias, latent))),
                Linear.init("enc.logsigma", data, latent, rng));
        Tensor x = rng.normal(2000, data);
        double m = 0, sq = 0;
        for (int n = 0; n < 2000; n++) {
            double v = x.get(n, 0);
            m += v;
            sq += v * v;
        }
        double var0 = sq / 2000 - (m / 2000) * (m / 2000);
        double[] a = Evaluator.activity(model.to(be), x.to(be));
        for (int h = 0; h < latent; h++) {
            assertEquals(s[h] * s[h] * var0, a[h], 1e-4, "A_" + h);
        }
        assertEquals(3, Evaluator.activeUnits(a));
    }
}
