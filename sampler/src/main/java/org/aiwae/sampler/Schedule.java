package org.aiwae.sampler;

/**
 * Inverse temperatures {@code 0 = beta_0 < ... < beta_{T-1} = 1} for an annealing run of T
 * temperatures. The paper (and Wu et al.'s evaluation) space them evenly; any other is a lambda.
 */
@FunctionalInterface
public interface Schedule {

    /** beta_t for t in [0, T). */
    double beta(int t, int temperatures);

    /** All T values, checked to run from 0 to 1 without decreasing. */
    default double[] betas(int temperatures) {
        if (temperatures < 2) {
            throw new IllegalArgumentException("an annealing schedule needs at least 2 temperatures, got " + temperatures);
        }
        double[] b = new double[temperatures];
        for (int t = 0; t < temperatures; t++) {
            b[t] = beta(t, temperatures);
            if (t > 0 && b[t] < b[t - 1]) {
                throw new IllegalArgumentException("schedule decreases at t=" + t);
            }
        }
        if (b[0] != 0 || b[temperatures - 1] != 1) {
            throw new IllegalArgumentException("schedule must start at 0 and end at 1, got " + b[0] + " .. " + b[temperatures - 1]);
        }
        return b;
    }

    /** Evenly spaced: {@code beta_t = t / (T - 1)}. */
    static Schedule linear() {
        return (t, n) -> (double) t / (n - 1);
    }

    /** Geometric from {@code start} (then 0 at t = 0): dense near 0 where the densities change fastest. */
    static Schedule geometric(double start) {
        return (t, n) -> t == 0 ? 0 : StrictMath.pow(start, 1 - (double) (t - 1) / (n - 2 == 0 ? 1 : n - 2));
    }

    /** Sigmoidal (Grosse et al.): {@code sigmoid(delta (2t/(T-1) - 1))}, rescaled to [0, 1]. */
    static Schedule sigmoidal(double delta) {
        return (t, n) -> {
            double lo = 1 / (1 + StrictMath.exp(delta)), hi = 1 / (1 + StrictMath.exp(-delta));
            double s = 1 / (1 + StrictMath.exp(-delta * (2.0 * t / (n - 1) - 1)));
            return t == 0 ? 0 : t == n - 1 ? 1 : (s - lo) / (hi - lo);
        };
    }
}
