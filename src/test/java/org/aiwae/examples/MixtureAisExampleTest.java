package org.aiwae.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.sampler.Ais;
import org.aiwae.sampler.Hmc;
import org.aiwae.sampler.HmcState;
import org.aiwae.sampler.LogDensity;
import org.aiwae.sampler.Target;
import org.aiwae.sampler.Schedule;
import org.aiwae.sampler.StepSizes;
import org.junit.jupiter.api.Test;

/**
 * AIS on its own, on an unnormalised 2-d density with four well-separated modes whose normaliser
 * is known: the estimate of log Z matches and the annealed chains populate every mode, while plain
 * HMC started in one mode never leaves it.
 */
class MixtureAisExampleTest {
    static final double[][] MODES = {{-4, -4}, {-4, 4}, {4, -4}, {4, 4}};
    static final double SIGMA = 0.5;
    static final double LOG_Z = Math.log(7.0);  // f1 = 7 * (equal mixture of the four N(mode, 0.5^2 I))

    /** f0 = N(0, 5^2 I) (normalised), written by hand on host arrays: a density needs no engine ops. */
    static LogDensity.Value wide(Tensor z) {
        int n = z.dim(0);
        float[] p = z.toArray(), log = new float[n], grad = new float[2 * n];
        for (int i = 0; i < n; i++) {
            double x = p[2 * i], y = p[2 * i + 1];
            log[i] = (float) (-(x * x + y * y) / 50 - Math.log(2 * Math.PI * 25));
            grad[2 * i] = (float) (-x / 25);
            grad[2 * i + 1] = (float) (-y / 25);
        }
        return new LogDensity.Value(Tensor.of(log, n), Tensor.of(grad, n, 2));
    }

    /** f1 = the unnormalised mixture, by hand. */
    static LogDensity.Value mixture(Tensor z) {
        int n = z.dim(0);
        float[] p = z.toArray(), log = new float[n], grad = new float[2 * n];
        for (int i = 0; i < n; i++) {
            double x = p[2 * i], y = p[2 * i + 1];
            double[] l = new double[MODES.length];
            double max = Double.NEGATIVE_INFINITY;
            for (int m = 0; m < MODES.length; m++) {
                double dx = x - MODES[m][0], dy = y - MODES[m][1];
                l[m] = -(dx * dx + dy * dy) / (2 * SIGMA * SIGMA) - Math.log(2 * Math.PI * SIGMA * SIGMA) - Math.log(MODES.length);
                max = Math.max(max, l[m]);
            }
            double sum = 0, gx = 0, gy = 0;
            for (int m = 0; m < MODES.length; m++) {
                double w = Math.exp(l[m] - max);
                sum += w;
                gx += w * -(x - MODES[m][0]) / (SIGMA * SIGMA);
                gy += w * -(y - MODES[m][1]) / (SIGMA * SIGMA);
            }
            log[i] = (float) (LOG_Z + max + Math.log(sum));
            grad[2 * i] = (float) (gx / sum);
            grad[2 * i + 1] = (float) (gy / sum);
        }
        return new LogDensity.Value(Tensor.of(log, n), Tensor.of(grad, n, 2));
    }

    static int[] modeCounts(Tensor z) {
        int[] counts = new int[MODES.length];
        for (int i = 0; i < z.dim(0); i++) {
            counts[(z.get(i, 0) > 0 ? 2 : 0) + (z.get(i, 1) > 0 ? 1 : 0)]++;
        }
        return counts;
    }

    @Test
    void aisEstimatesTheNormaliserAndVisitsEveryMode() {
        int n = 400;
        RandomStream rng = new RandomStream(1);
        Tensor start = rng.normal(n, 2);
        for (int i = 0; i < start.data().length; i++) {
            start.data()[i] *= 5; // samples of f0
        }
        Ais ais = new Ais(new Hmc(10), MixtureAisExampleTest::wide, MixtureAisExampleTest::mixture);
        Ais.Result r = ais.run(ais.init(start), Schedule.linear().betas(300), StepSizes.ais(1, 0.1f), new ChainNoise.Shared(rng), null);
        double[] logw = r.state().logWeights();
        double max = Arrays.stream(logw).max().orElseThrow(), sum = 0;
        for (double w : logw) {
            sum += Math.exp(w - max);
        }
        double logZ = max + Math.log(sum / n);
        assertEquals(LOG_Z, logZ, 0.1, "log Z");
        int[] counts = modeCounts(r.state().chains().position());
        for (int m = 0; m < MODES.length; m++) {
            assertTrue(counts[m] > n / 10, "mode " + m + " holds " + counts[m] + " of " + n + " chains: " + Arrays.toString(counts));
        }
    }

    @Test
    void plainHmcFromOneStartStaysInItsMode() {
        int n = 400;
        RandomStream rng = new RandomStream(2);
        Tensor start = Tensor.full(4f, n, 2);
        Target target = Target.of(MixtureAisExampleTest::mixture);
        HmcState state = target.at(start);
        Hmc hmc = new Hmc(10);
        ChainNoise noise = new ChainNoise.Shared(rng);
        for (int t = 0; t < 300; t++) {
            state = hmc.step(noise, target, state, Tensor.full(0.2f, 1, 1)).state();
        }
        assertEquals(n, modeCounts(state.position())[3], "every chain should still be in the mode it started in");
    }
}
