package org.aiwae.sampler;

import static org.aiwae.sampler.Layout.block;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.Key;
import org.junit.jupiter.api.Test;

/** The library's kernel, keys, layouts, diagnostics and AIS estimates on targets whose answers are known. */
class SamplerLibraryTest {

    /** A Gaussian with independent coordinates of the given means and sds. */
    private static LogDensity gaussian(float[] mean, float[] sd) {
        float[] logSd = new float[sd.length];
        for (int j = 0; j < sd.length; j++) {
            logSd[j] = (float) Math.log(sd[j]);
        }
        Var mu = Var.constant(Tensor.of(mean.clone(), 1, mean.length)), ls = Var.constant(Tensor.of(logSd, 1, sd.length));
        return LogDensity.autodiff(z -> Ops.gaussianLogProb(z, mu, ls));
    }

    @Test
    void aKeyDeterminesATransitionAndOtherKeysGiveOthers() {
        HmcKernel kernel = Hmc.kernel(gaussian(new float[] {0, 1}, new float[] {1, 2}), new Hmc.Options(0.3, 5));
        HmcState s0 = kernel.init(Key.of(1).normal(Placement.HOST, 4, 2));
        float[] a = kernel.step(Key.of(5), s0).state().position().toArray();
        float[] b = kernel.step(Key.of(5), s0).state().position().toArray();
        float[] c = kernel.step(Key.of(5).fold(1), s0).state().position().toArray();
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        // the key's transition is Hmc.step drawing from the key's stream: one formula for both
        float[] viaNoise = new Hmc(5).step(new ChainNoise.Shared(Key.of(5).stream()), Target.of(kernel.target()), s0,
                Tensor.full(0.3f, 1, 1)).state().position().toArray();
        assertArrayEquals(a, viaNoise);
    }

    @Test
    void badShapesAreNamedOnEntry() {
        LogDensity f = gaussian(new float[] {0, 0, 0, 0, 0}, new float[] {1, 1, 1, 1, 1});
        HmcState s = Target.of(f).at(Tensor.zeros(64, 5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Hmc(3).step(new ChainNoise.Shared(Key.of(0).stream()), Target.of(f), s, Tensor.full(0.1f, 64)));
        assertEquals("step size must be [1, 1] or [N, 1] = [64, 1] for 64 chains, got [64]", e.getMessage());
        LogDensity wrong = LogDensity.autodiff(z -> Ops.mul(z, 2f));
        e = assertThrows(IllegalArgumentException.class, () -> wrong.at(Tensor.zeros(3, 2)));
        assertEquals("the log density must return [N] for N = 3 chains, got [3, 2]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Hmc.kernel(f, new Hmc.Options(new float[] {0.1f, 0.2f}, null, 3, 0)).init(Tensor.zeros(4, 5)));
        assertEquals("step sizes: 1 or one per chain (4) values, got 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Hmc.kernel(f, new Hmc.Options(0.1, new float[] {1, 1}, 3)).init(Tensor.zeros(4, 5)));
        assertEquals("inverse mass matrix: [1, D] or [N, D] = [4, 5] values, got [1, 2]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Hmc.Options(0, 3));
        assertThrows(IllegalArgumentException.class, () -> new Hmc.Options(0.1, new float[] {1, -1}, 3));
    }

    @Test
    void layoutsNameBlocksAndSendGradientsToThem() {
        Layout layout = Layout.of(block("theta", 3), block("mu", 1));
        assertEquals(4, layout.dim());
        assertEquals(java.util.List.of("theta[1]", "theta[2]", "theta[3]", "mu"), layout.coordinates());
        Tensor z = layout.positions(2, Map.of("theta", new float[] {1, 2, 3, 4, 5, 6}, "mu", new float[] {7, 8}));
        assertArrayEquals(new float[] {1, 2, 3, 7, 4, 5, 6, 8}, z.toArray());
        // log f = sum(theta * mu): d/dtheta = mu, d/dmu = sum(theta)
        LogDensity f = layout.logDensity(p -> Ops.sum(Ops.mul(p.get("theta"), p.get("mu")), 1));
        LogDensity.Value v = f.at(z);
        assertArrayEquals(new float[] {42, 120}, v.logDensity().toArray());
        assertArrayEquals(new float[] {7, 7, 7, 6, 8, 8, 8, 15}, v.gradient().toArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> layout.offset("sigma"));
        assertEquals("no block named 'sigma' in [theta, mu]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> layout.positions(2, Map.of("theta", new float[6])));
        assertThrows(IllegalArgumentException.class, () -> Layout.of(block("a", 1), block("a", 2)));
    }

    @Test
    void windowAdaptationLearnsScalesFourOrdersApart() {
        for (WindowAdaptation.StepSizeRule rule : new WindowAdaptation.StepSizeRule[] {new WindowAdaptation.DualAveraging(0.8),
            new StepSizes.Rule(0.6, 1.05f, 0.95f, 1e-4f, 1f)}) {
            float[] mean = {3, -1, 0}, sd = {0.01f, 1, 100};
            LogDensity f = gaussian(mean, sd);
            WindowAdaptation.Result warm = new WindowAdaptation(f, 8, rule, 0.2).run(Key.of(3), Key.of(4).normal(Placement.HOST, 8, 3), 600);
            float[][] m = warm.kernel().options().inverseMass();
            for (float[] chain : m) {
                for (int j = 0; j < 3; j++) {
                    double ratio = chain[j] / (sd[j] * sd[j]);
                    assertTrue(ratio > 0.5 && ratio < 2, rule + ": inverse mass " + chain[j] + " for a variance of " + sd[j] * sd[j]);
                }
            }
            Trace t = warm.kernel().sample(Key.of(5), warm.state(), 1000);
            for (int j = 0; j < 3; j++) {
                assertEquals(mean[j], t.mean(j), 4 * t.mcseMean(j), rule + ": mean of coordinate " + j);
                assertEquals(sd[j], t.sd(j), 0.1 * sd[j], rule + ": sd of coordinate " + j);
                assertTrue(t.rhat(j) < 1.01, rule + ": R-hat " + t.rhat(j));
                assertTrue(t.essBulk(j) > 500, rule + ": bulk ESS " + t.essBulk(j));
            }
            assertEquals(0, t.divergences());
        }
        // the paper's rule keeps each chain's size in its bounds
        StepSizes.Rule tight = new StepSizes.Rule(0.6, 1.5f, 0.5f, 0.01f, 0.02f);
        WindowAdaptation.Result warm = new WindowAdaptation(gaussian(new float[] {0}, new float[] {1}), 4, tight, 0)
                .run(Key.of(1), Tensor.zeros(4, 1), 100);
        for (float e : warm.kernel().options().stepSizes()) {
            assertTrue(e >= 0.01f && e <= 0.02f, "step size " + e + " outside the rule's [0.01, 0.02]");
        }
        assertThrows(IllegalArgumentException.class, () -> new StepSizes.Rule(0.6, 0.9f, 0.5f, 0.01f, 0.02f));
    }

    @Test
    void essAndRhatAgreeWithTheirTheory() {
        Random r = new Random(1);
        int m = 4, n = 2000;
        double[][] iid = new double[m][n], ar = new double[m][n], shifted = new double[m][n];
        double phi = 0.9;
        for (int c = 0; c < m; c++) {
            double x = r.nextGaussian() / Math.sqrt(1 - phi * phi);
            for (int t = 0; t < n; t++) {
                iid[c][t] = r.nextGaussian();
                x = phi * x + r.nextGaussian();
                ar[c][t] = x;
                shifted[c][t] = r.nextGaussian() + (c == 0 ? 1 : 0);
            }
        }
        double s = m * n;
        assertEquals(s, Diagnostics.essBulk(iid), 0.1 * s);
        assertEquals(s, Diagnostics.essMean(iid), 0.1 * s);
        assertTrue(Diagnostics.rhat(iid) < 1.005, "R-hat of iid draws " + Diagnostics.rhat(iid));
        double arEss = s * (1 - phi) / (1 + phi); // an AR(1)'s integrated autocorrelation time is (1 + phi) / (1 - phi)
        assertEquals(arEss, Diagnostics.essMean(ar), 0.3 * arEss);
        assertTrue(Diagnostics.rhat(shifted) > 1.05, "R-hat with one chain a whole sd away: " + Diagnostics.rhat(shifted));
        // a chain whose halves differ: split R-hat sees it
        double[][] drift = new double[m][n];
        for (int c = 0; c < m; c++) {
            for (int t = 0; t < n; t++) {
                drift[c][t] = r.nextGaussian() + (t < n / 2 ? -0.5 : 0.5);
            }
        }
        assertTrue(Diagnostics.rhat(drift) > 1.02, "split R-hat of drifting chains " + Diagnostics.rhat(drift));
        assertEquals(1.959963984540054, Diagnostics.inverseNormalCdf(0.975), 1e-8);
        assertEquals(-3.090232306167813, Diagnostics.inverseNormalCdf(0.001), 1e-8);
        assertEquals(0, Diagnostics.inverseNormalCdf(0.5), 1e-15);
    }

    @Test
    void aisEstimatesLogZWithinItsStandardError() {
        int d = 10, n = 256;
        float s = 0.5f;
        LogDensity base = LogDensity.autodiff(Ops::standardNormalLogProb);
        // f1(z) = exp(-|z - 1|^2 / (2 s^2)), unnormalised: Z = (2 pi s^2)^(d/2)
        Var one = Var.constant(Tensor.full(1f, 1, d));
        LogDensity target = LogDensity.autodiff(z -> Ops.mul(Ops.sum(Ops.square(Ops.sub(z, one)), 1), -0.5f / (s * s)));
        double truth = d / 2.0 * Math.log(2 * Math.PI * s * s);
        Ais ais = new Ais(new Hmc(5), base, target);
        Key[] keys = Key.of(9).split(2);
        Ais.Result r = ais.run(ais.init(keys[0].normal(Placement.HOST, n, d)), Schedule.linear().betas(200), StepSizes.ais(1, 0.2f), keys[1],
                null);
        System.out.printf("AIS, %d-d Gaussian, %d chains, 200 temperatures: log Z %.4f +- %.4f (truth %.4f), weights' ESS %.1f%n", d, n,
                r.logZ(), r.standardError(), truth, r.effectiveSampleSize());
        assertEquals(truth, r.logZ(), 3 * r.standardError(), "log Z " + r.logZ() + " +- " + r.standardError());
        assertTrue(r.standardError() < 0.1, "standard error " + r.standardError());
        assertTrue(r.effectiveSampleSize() > 0.3 * n && r.effectiveSampleSize() <= n, "ESS of the weights " + r.effectiveSampleSize());
        // plain importance sampling (one step) from the same start: a far worse ESS
        Ais.Result is = ais.run(ais.init(keys[0].normal(Placement.HOST, n, d)), new double[] {0, 1}, StepSizes.ais(1, 0.2f), keys[1], null);
        assertTrue(is.effectiveSampleSize() < r.effectiveSampleSize() / 4, "importance sampling ESS " + is.effectiveSampleSize());
    }

    /** The quick start in docs/api.md is lines of examples/sampler-consumer's program (which bin/check-artifacts runs). */
    @Test
    void theQuickStartIsTheExamplesCode() throws java.io.IOException {
        java.nio.file.Path root = java.nio.file.Path.of("").toAbsolutePath().getParent();
        String docs = java.nio.file.Files.readString(root.resolve("docs/api.md"));
        String example = java.nio.file.Files.readString(root.resolve("examples/sampler-consumer/src/main/java/demo/EightSchools.java"));
        int from = docs.indexOf("```java", docs.indexOf("**Quick start.**"));
        String snippet = docs.substring(from + "```java".length(), docs.indexOf("```", from + 1));
        java.util.Set<String> lines = example.lines().map(String::strip).collect(java.util.stream.Collectors.toSet());
        int checked = 0;
        for (String line : snippet.lines().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
            assertTrue(lines.contains(line), "docs/api.md's quick start has a line the example does not: " + line);
            checked++;
        }
        assertTrue(checked > 10, "the quick start has " + checked + " lines");
    }
}
