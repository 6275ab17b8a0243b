package org.aiwae.eval;

/**
 * The mean and sample standard deviation of some values (per-image results, repeats of a configuration),
 * and the standard error of the mean. A value that is not finite makes the mean and sd NaN or infinite,
 * as it should: the evaluation diverged somewhere.
 *
 * @param n    how many values
 * @param mean their mean (NaN for none)
 * @param sd   their sample standard deviation, with n - 1 (NaN for fewer than two)
 */
public record Sample(int n, double mean, double sd) {
    public static Sample of(double[] values) {
        int n = values.length;
        double sum = 0;
        for (double v : values) {
            sum += v; // in order: a bound's mean is the same bits on every run
        }
        double mean = n == 0 ? Double.NaN : sum / n, ss = 0;
        for (double v : values) {
            ss += (v - mean) * (v - mean);
        }
        return new Sample(n, mean, n > 1 ? Math.sqrt(ss / (n - 1)) : Double.NaN);
    }

    /** The standard error of the mean, sd / sqrt(n) (NaN for fewer than two values). */
    public double se() {
        return sd / Math.sqrt(n);
    }

    /** The standard error of the difference of the means of two independent samples: sqrt(se_a^2 + se_b^2). */
    public static double unpairedSe(Sample a, Sample b) {
        return Math.hypot(a.se(), b.se());
    }
}
