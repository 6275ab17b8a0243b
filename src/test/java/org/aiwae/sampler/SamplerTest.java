package org.aiwae.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.aiwae.data.Binarizer;
import org.aiwae.data.Datasets;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.Key;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.kernels.OnEveryBackend;
import org.aiwae.kernels.TestBackends;
import org.aiwae.model.DiagonalGaussian;
import org.aiwae.model.Annealer;
import org.aiwae.model.MlpVae;
import org.junit.jupiter.api.Test;

/** HMC and AIS, written once over the engine's primitives, on every backend (cpu, opencl on PoCL, cuda where there is one). */
class SamplerTest {
    private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

    /** N(0, I) in d dimensions, by autodiff. */
    static LogDensity standardNormal() {
        return LogDensity.autodiff(Ops::standardNormalLogProb);
    }

    /** exp(c) N(m, s^2 I), unnormalised relative to N(0, I) by exp(c) s^-d: log Z = c + d log(s) against N(0, I). */
    static LogDensity scaledGaussian(int d, double m, double s, double c) {
        return LogDensity.autodiff(z -> Ops.add(Ops.mul(Ops.sum(Ops.square(Ops.add(z, (float) -m)), 1), (float) (-0.5 / (s * s))),
                (float) (c - d * HALF_LOG_2PI)));
    }

    /**
     * The library's kernel on every backend: named blocks (sliced on the device), one step size per chain and a
     * diagonal inverse mass matrix, keys for the randomness; started exactly at a Gaussian with sds 0.1, 1 and 10,
     * the chains stay there.
     */
    @OnEveryBackend
    void keyedKernelWithBlocksAndAMassMatrixLeavesItsTargetInvariant(String name) {
        Backend be = TestBackends.get(name);
        int n = 2000;
        float[] sd = {0.1f, 1, 10}, logSd = {(float) Math.log(0.1), 0, (float) Math.log(10)};
        Var zero2 = Var.constant(be.zeros(1, 2)), zero1 = Var.constant(be.zeros(1, 1));
        Var logSdA = Var.constant(Tensor.of(new float[] {logSd[0], logSd[1]}, 1, 2).to(be)),
                logSdB = Var.constant(Tensor.of(new float[] {logSd[2]}, 1, 1).to(be));
        Layout layout = Layout.of(Layout.block("a", 2), Layout.block("b", 1));
        LogDensity f = layout.logDensity(p -> Ops.add(Ops.gaussianLogProb(p.get("a"), zero2, logSdA),
                Ops.gaussianLogProb(p.get("b"), zero1, logSdB)));
        float[] start = Key.of(1).normal(org.aiwae.engine.Placement.HOST, n, 3).toArray(), steps = new float[n];
        for (int i = 0; i < start.length; i++) {
            start[i] *= sd[i % 3];
        }
        for (int c = 0; c < n; c++) {
            steps[c] = 0.3f + 0.2f * c / n;
        }
        HmcKernel kernel = Hmc.kernel(f, new Hmc.Options(steps, new float[][] {{0.01f, 1, 100}}, 4, 0.1));
        HmcState state = kernel.init(Tensor.of(start, n, 3).to(be));
        Key key = Key.of(2);
        double accepted = 0;
        for (int t = 0; t < 10; t++) {
            Hmc.Step step = kernel.step(key.fold(t), state);
            assertEquals(0, step.info().divergences(), name);
            accepted += step.info().acceptance() / 10;
            state = step.state();
        }
        float[] z = state.position().toArray();
        for (int j = 0; j < 3; j++) {
            double mean = 0, var = 0;
            for (int c = 0; c < n; c++) {
                mean += z[c * 3 + j] / n;
            }
            for (int c = 0; c < n; c++) {
                var += (z[c * 3 + j] - mean) * (z[c * 3 + j] - mean) / (n - 1);
            }
            assertEquals(0, mean, 4 * sd[j] / Math.sqrt(n), name + ": mean of coordinate " + j);
            assertEquals(1, var / (sd[j] * sd[j]), 0.1, name + ": variance of coordinate " + j);
        }
        assertTrue(accepted > 0.9, name + ": acceptance " + accepted);
    }

    @OnEveryBackend
    void hmcLeavesItsTargetInvariant(String name) {
        Backend be = TestBackends.get(name);
        int n = 2000, d = 3;
        Target target = Target.of(scaledGaussian(d, 1.5, 0.5, 0));
        RandomStream rng = new RandomStream(3);
        // start exactly at the target
        HmcState state = target.at(be.binary(org.aiwae.engine.backend.BinaryOp.ADD,
                be.binary(org.aiwae.engine.backend.BinaryOp.MUL, rng.normal(be, n, d), 0.5f), 1.5f));
        Hmc hmc = new Hmc(5);
        Tensor eps = be.full(0.2f, 1, 1);
        ChainNoise noise = new ChainNoise.Shared(rng);
        double acc = 0;
        for (int step = 0; step < 20; step++) {
            Hmc.Step s = hmc.step(noise, target, state, eps);
            acc += s.info().acceptance() / 20;
            assertEquals(0, s.info().divergences());
            state = s.state();
        }
        double mean = 0, var = 0;
        float[] z = state.position().toArray();
        for (float v : z) {
            mean += v / (n * d);
        }
        for (float v : z) {
            var += (v - mean) * (v - mean) / (n * d);
        }
        assertEquals(1.5, mean, 0.02, name);
        assertEquals(0.25, var, 0.02, name);
        assertTrue(acc > 0.8, name + ": acceptance " + acc);
    }

    @OnEveryBackend
    void aisEstimatesAKnownNormaliser(String name) {
        Backend be = TestBackends.get(name);
        int n = 400, d = 2;
        Ais ais = new Ais(new Hmc(5), standardNormal(), scaledGaussian(d, 1.0, 0.6, 2.5));
        RandomStream rng = new RandomStream(4);
        Ais.Result r = ais.run(ais.init(rng.normal(be, n, d)), Schedule.linear().betas(200), StepSizes.ais(1, 0.3f),
                new ChainNoise.Shared(rng), null);
        double[] w = r.state().logWeights();
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double v : w) {
            max = Math.max(max, v);
        }
        for (double v : w) {
            sum += Math.exp(v - max);
        }
        assertEquals(2.5 + d * Math.log(0.6), max + Math.log(sum / n), 0.05, name);
        assertEquals(0, r.divergences());
    }

    @OnEveryBackend
    void aisWithOneStepIsImportanceSampling(String name) {
        Backend be = TestBackends.get(name);
        int n = 50, d = 2;
        LogDensity base = standardNormal(), target = scaledGaussian(d, 0.3, 1.2, -1);
        Ais ais = new Ais(new Hmc(1), base, target);
        RandomStream rng = new RandomStream(5);
        Ais.State start = ais.init(rng.normal(be, n, d));
        float[] l0 = start.chains().logDensities().get(0).toArray(), l1 = start.chains().logDensities().get(1).toArray();
        Ais.Result r = ais.run(start, new double[] {0, 1}, StepSizes.ais(1, 0.1f), new ChainNoise.Shared(rng), null);
        for (int i = 0; i < n; i++) {
            assertEquals((double) l1[i] - l0[i], r.state().logWeights()[i], 1e-5);
        }
    }

    @OnEveryBackend
    void compensatedLogWeightsKeepWhatAFloatSumLoses(String name) {
        // 4,000 steps of beta 1/4000 on a log ratio of 100.003 nats: a plain float sum drifts by ~1e-3
        Backend be = TestBackends.get(name);
        int n = 8, d = 1, steps = 4000;
        LogDensity base = standardNormal();
        LogDensity target = z -> new LogDensity.Value(Backends.of(z).binary(org.aiwae.engine.backend.BinaryOp.ADD,
                base.at(z).logDensity(), 100.003f), base.at(z).gradient());
        Ais ais = new Ais(new Hmc(1), base, target);
        Ais.Result r = ais.run(ais.init(new RandomStream(1).normal(be, n, d)), Schedule.linear().betas(steps + 1),
                StepSizes.ais(1, 0.1f), new ChainNoise.Shared(new RandomStream(2)), null);
        float plain = 0;
        for (int t = 0; t < steps; t++) {
            plain += 100.003f * (float) (1.0 / steps);
        }
        for (double w : r.state().logWeights()) {
            assertEquals(100.003, w, 2e-5, name); // the float ratio 100.003f is 100.00299835
        }
        assertTrue(Math.abs(plain - 100.003) > 1e-4, "the plain float sum is the weaker one: " + plain);
    }

    @OnEveryBackend
    void fusedAndClosedFormDensitiesAgreeWithAutodiffOnThePapersModel(String name) {
        Backend be = TestBackends.get(name);
        MlpVae model = MlpVae.create(784, 200, 50, new RandomStream(6)).to(be);
        Tensor x = Binarizer.sample(Datasets.embedded().train().slice(0, 4), new RandomStream(7)).to(be);
        int k = 3;
        try (Annealer annealer = new Annealer(model, 2); NoGrad ignored = NoGrad.enter()) {
            DiagonalGaussian q = model.posterior(Var.constant(x));
            Tensor z = new RandomStream(8).normal(be, k * 4, 50);
            LogDensity fused = annealer.ais(x, q, k).target();
            Var xv = Var.constant(x);
            LogDensity composed = LogDensity.autodiff(v -> model.logJoint(xv, Ops.reshape(v, k, 4, 50)));
            assertSameDensity(name + ": log p", fused.at(z), composed.at(z));
            // and the closed-form log q against autodiff of DiagonalGaussian.logProb
            LogDensity closed = annealer.ais(x, q, k).base();
            LogDensity autodiff = LogDensity.autodiff(v -> q.logProb(Ops.reshape(v, k, 4, 50)));
            assertSameDensity(name + ": log q", closed.at(z), autodiff.at(z));
            // a gradient-only evaluation (the leapfrog steps between a trajectory's ends) gives the same bits
            assertArrayEquals(fused.at(z).gradient().toArray(), fused.gradient(z).toArray(), name + ": fused d/dz alone");
            assertArrayEquals(closed.at(z).gradient().toArray(), closed.gradient(z).toArray(), name + ": closed-form d/dz alone");
            Tempered path = new Tempered(closed, fused, 0.3);
            assertArrayEquals(path.gradient(path.at(z)).toArray(), path.gradientAt(z).toArray(), name + ": tempered d/dz alone");
        }
        // and the parameters were not touched by the autodiff densities
        model.namedParameters().values().forEach(p -> assertTrue(p.grad() == null));
    }

    private static void assertSameDensity(String what, LogDensity.Value a, LogDensity.Value b) {
        float[][] fa = {a.logDensity().toArray(), a.gradient().toArray()};
        float[][] fb = {b.logDensity().toArray(), b.gradient().toArray()};
        for (int t = 0; t < 2; t++) {
            for (int i = 0; i < fa[t].length; i++) {
                assertEquals(fb[t][i], fa[t][i], 1e-3 * Math.max(1, Math.abs(fb[t][i])), what + (t == 0 ? " value" : " d/dz") + " at " + i);
            }
        }
    }

    @Test
    void stepSizesFollowThePapersRule() {
        StepSizes s = StepSizes.aiwae(5);
        assertEquals(4, s.slots());
        s.observe(0, Tensor.of(new float[] {1, 1, 0}, 3));    // 0.67 >= 0.6: grow
        s.observe(1, Tensor.of(new float[] {1, 0, 0}, 3));    // 0.33 < 0.6: shrink
        assertEquals(0.1f * 1.002f, s.slot(0)[0], 1e-7);
        assertEquals(0.1f * 0.998f, s.slot(1)[0], 1e-7);
        for (int i = 0; i < 5000; i++) {
            s.observe(2, Tensor.of(new float[] {1}, 1));
        }
        assertEquals(0.3f, s.slot(2)[0], 0f);
        StepSizes perImage = StepSizes.ais(2, 0.1f);
        perImage.observe(0, Tensor.of(new float[] {1, 0, 1, 0}, 4)); // chains [K=2, B=2]: image 0 accepts, image 1 does not
        assertEquals(0.102f, perImage.slot(0)[0], 1e-6);
        assertEquals(0.098f, perImage.slot(0)[1], 1e-6);
        float[] perChain = perImage.forChains(0, Backends.cpu(), 4).toArray();
        assertEquals(0.102f, perChain[2], 1e-6);
        assertEquals(0.098f, perChain[3], 1e-6);
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
