package org.aiwae.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.aiwae.data.Binarizer;
import org.aiwae.data.Datasets;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.DiagonalGaussian;
import org.aiwae.model.MlpVae;
import org.junit.jupiter.api.Test;

class SamplerTest {

    /** f0 = N(0, I), f1 = unnormalised N(m, s^2 I) times exp(c): log Z1 = c + d log(s) (relative to N(0, I)). */
    static final class GaussianPath implements AnnealingPath {
        final int n, d;
        final double m, s, c;

        GaussianPath(int n, int d, double m, double s, double c) {
            this.n = n;
            this.d = d;
            this.m = m;
            this.s = s;
            this.c = c;
        }

        @Override
        public int chains() {
            return n;
        }

        @Override
        public int dim() {
            return d;
        }

        @Override
        public void evaluate(Tensor z, Tensor log0, Tensor grad0, Tensor log1, Tensor grad1) {
            for (int i = 0; i < n; i++) {
                double a = 0, b = 0;
                for (int j = 0; j < d; j++) {
                    double v = z.data()[z.offset() + i * d + j];
                    a += -0.5 * v * v - 0.5 * Math.log(2 * Math.PI);
                    b += -0.5 * (v - m) * (v - m) / (s * s) - 0.5 * Math.log(2 * Math.PI);
                    grad0.data()[i * d + j] = (float) -v;
                    grad1.data()[i * d + j] = (float) (-(v - m) / (s * s));
                }
                log0.data()[i] = (float) a;
                log1.data()[i] = (float) (b + c);
            }
        }

        double logZ() {
            return c + d * Math.log(s);
        }
    }

    @Test
    void hmcLeavesItsTargetInvariant() {
        int n = 2000, d = 3;
        GaussianPath path = new GaussianPath(n, d, 1.5, 0.5, 0);
        RandomStream rng = new RandomStream(3);
        Tensor z = rng.normal(n, d);
        for (int i = 0; i < z.size(); i++) { // start exactly at the target
            z.data()[i] = (float) (1.5 + 0.5 * z.data()[i]);
        }
        PathState state = PathState.at(path, z);
        Hmc hmc = new Hmc(n, d, 5);
        float[] eps = new float[n];
        java.util.Arrays.fill(eps, 0.2f);
        double acc = 0;
        for (int step = 0; step < 20; step++) {
            acc += hmc.step(path, state, 1.0, eps, rng).acceptance() / 20;
        }
        double mean = 0, var = 0;
        for (float v : state.position().toArray()) {
            mean += v / (n * d);
        }
        for (float v : state.position().toArray()) {
            var += (v - mean) * (v - mean) / (n * d);
        }
        assertEquals(1.5, mean, 0.02);
        assertEquals(0.25, var, 0.02);
        assertTrue(acc > 0.8, "acceptance " + acc);
    }

    @Test
    void aisEstimatesAKnownNormaliser() {
        int n = 400, d = 2;
        GaussianPath path = new GaussianPath(n, d, 1.0, 0.6, 2.5);
        RandomStream rng = new RandomStream(4);
        PathState state = PathState.at(path, rng.normal(n, d));
        Ais.Result r = Ais.run(path, state, Schedule.linear().betas(200), new Hmc(n, d, 5), StepSizes.ais(1, 0.3f), rng, null);
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double w : r.logWeights()) {
            max = Math.max(max, w);
        }
        for (double w : r.logWeights()) {
            sum += Math.exp(w - max);
        }
        double estimate = max + Math.log(sum / n);
        assertEquals(path.logZ(), estimate, 0.05);
    }

    @Test
    void aisWithOneStepIsImportanceSampling() {
        int n = 50, d = 2;
        GaussianPath path = new GaussianPath(n, d, 0.3, 1.2, -1);
        RandomStream rng = new RandomStream(5);
        PathState state = PathState.at(path, rng.normal(n, d));
        float[] l0 = state.log0().toArray(), l1 = state.log1().toArray();
        Ais.Result r = Ais.run(path, state, new double[] {0, 1}, new Hmc(n, d, 1), StepSizes.ais(1, 0.1f), rng, null);
        for (int i = 0; i < n; i++) {
            assertEquals((double) l1[i] - l0[i], r.logWeights()[i], 1e-9);
        }
    }

    @Test
    void fusedAndAutodiffPathsAgreeOnThePapersModel() {
        MlpVae model = MlpVae.create(784, 200, 50, new RandomStream(6));
        Tensor x = Binarizer.sample(Datasets.embedded().train().slice(0, 4), new RandomStream(7));
        int k = 3;
        DiagonalGaussian q;
        try (NoGrad ignored = NoGrad.enter()) {
            q = model.posterior(Var.constant(x));
        }
        Tensor z = new RandomStream(8).normal(k * 4, 50);
        AnnealingPath fused = AnnealingPaths.of(model, x, q, k, AnnealingPaths.kernelFor(model, Backends.cpu(), k * 4));
        AnnealingPath generic = AnnealingPaths.of(model, x, q, k, null);
        assertTrue(fused instanceof FusedMlpPath && generic instanceof ModelPath);
        PathState a = PathState.at(fused, z.copy());
        PathState b = PathState.at(generic, z.copy());
        float[][] fa = {a.log0().toArray(), a.grad0().toArray(), a.log1().toArray(), a.grad1().toArray()};
        float[][] fb = {b.log0().toArray(), b.grad0().toArray(), b.log1().toArray(), b.grad1().toArray()};
        for (int t = 0; t < 4; t++) {
            for (int i = 0; i < fa[t].length; i++) {
                assertEquals(fb[t][i], fa[t][i], 1e-3 * Math.max(1, Math.abs(fb[t][i])), "component " + t + " at " + i);
            }
        }
        // and the parameters were not touched by the autodiff path
        model.namedParameters().values().forEach(p -> assertTrue(p.grad() == null));
    }

    @Test
    void stepSizesFollowThePapersRule() {
        StepSizes s = StepSizes.aiwae(5);
        assertEquals(4, s.slots());
        s.observe(0, new boolean[] {true, true, false});    // 0.67 >= 0.6: grow
        s.observe(1, new boolean[] {true, false, false});   // 0.33 < 0.6: shrink
        assertEquals(0.1f * 1.002f, s.slot(0)[0], 1e-7);
        assertEquals(0.1f * 0.998f, s.slot(1)[0], 1e-7);
        for (int i = 0; i < 5000; i++) {
            s.observe(2, new boolean[] {true});
        }
        assertEquals(0.3f, s.slot(2)[0], 0f);
        StepSizes perImage = StepSizes.ais(2, 0.1f);
        perImage.observe(0, new boolean[] {true, false, true, false}); // chains [K=2, B=2]: image 0 accepts, image 1 does not
        assertEquals(0.102f, perImage.slot(0)[0], 1e-6);
        assertEquals(0.098f, perImage.slot(0)[1], 1e-6);
    }

    @Test
    void schedulesRunFromZeroToOne() {
        for (Schedule s : new Schedule[] {Schedule.linear(), Schedule.geometric(1e-3), Schedule.sigmoidal(4)}) {
            double[] b = s.betas(11);
            assertEquals(0, b[0]);
            assertEquals(1, b[10], 1e-12);
        }
        assertEquals(0.25, Schedule.linear().betas(5)[1], 1e-12);
    }
}
