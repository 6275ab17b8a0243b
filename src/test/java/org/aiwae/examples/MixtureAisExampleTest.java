package org.aiwae.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.sampler.Ais;
import org.aiwae.sampler.AnnealingPath;
import org.aiwae.sampler.Hmc;
import org.aiwae.sampler.PathState;
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

    /** f0 = N(0, 5^2 I) (normalised), f1 = the unnormalised mixture, for n chains. */
    record MixturePath(int chains) implements AnnealingPath {
        @Override
        public int dim() {
            return 2;
        }

        @Override
        public void evaluate(Tensor z, Tensor log0, Tensor grad0, Tensor log1, Tensor grad1) {
            float[] p = z.data();
            int o = z.offset();
            for (int i = 0; i < chains; i++) {
                double x = p[o + 2 * i], y = p[o + 2 * i + 1];
                log0.data()[log0.offset() + i] = (float) (-(x * x + y * y) / 50 - Math.log(2 * Math.PI * 25));
                grad0.data()[grad0.offset() + 2 * i] = (float) (-x / 25);
                grad0.data()[grad0.offset() + 2 * i + 1] = (float) (-y / 25);
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
                log1.data()[log1.offset() + i] = (float) (LOG_Z + max + Math.log(sum));
                grad1.data()[grad1.offset() + 2 * i] = (float) (gx / sum);
                grad1.data()[grad1.offset() + 2 * i + 1] = (float) (gy / sum);
            }
        }
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
        MixturePath path = new MixturePath(n);
        Tensor start = rng.normal(n, 2);
        for (int i = 0; i < start.data().length; i++) {
            start.data()[i] *= 5; // samples of f0
        }
        PathState state = PathState.at(path, start);
        Ais.Result r = Ais.run(path, state, Schedule.linear().betas(300), new Hmc(n, 2, 10), StepSizes.ais(1, 0.1f), rng, null);
        double max = Arrays.stream(r.logWeights()).max().orElseThrow(), sum = 0;
        for (double w : r.logWeights()) {
            sum += Math.exp(w - max);
        }
        double logZ = max + Math.log(sum / n);
        assertEquals(LOG_Z, logZ, 0.1, "log Z");
        int[] counts = modeCounts(state.position());
        for (int m = 0; m < MODES.length; m++) {
            assertTrue(counts[m] > n / 10, "mode " + m + " holds " + counts[m] + " of " + n + " chains: " + Arrays.toString(counts));
        }
    }

    @Test
    void plainHmcFromOneStartStaysInItsMode() {
        int n = 400;
        RandomStream rng = new RandomStream(2);
        MixturePath path = new MixturePath(n);
        Tensor start = Tensor.zeros(n, 2);
        for (int i = 0; i < n; i++) {
            start.set(4f, i, 0);
            start.set(4f, i, 1);
        }
        PathState state = PathState.at(path, start);
        Hmc hmc = new Hmc(n, 2, 10);
        float[] eps = new float[n];
        Arrays.fill(eps, 0.2f);
        for (int t = 0; t < 300; t++) {
            hmc.step(path, state, 1.0, eps, rng);
        }
        assertEquals(n, modeCounts(state.position())[3], "every chain should still be in the mode it started in");
    }
}
