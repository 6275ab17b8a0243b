package org.aiwae.sampler;

import java.util.Arrays;

/**
 * Convergence diagnostics of MCMC draws {@code [chains][draws]} of one quantity, as Stan and ArviZ compute
 * them (Vehtari, Gelman, Simpson, Carpenter and Buerkner, "Rank-normalization, folding, and localization: an
 * improved R-hat for assessing convergence of MCMC", Bayesian Analysis 2021): each chain is split in two
 * halves; the effective sample size uses Geyer's initial monotone sequence of the chains' combined
 * autocorrelations; the bulk ESS and R-hat are computed on rank-normalised draws, R-hat being the larger of
 * the bulk and the folded ({@code |x - median|}) values.
 */
public final class Diagnostics {
    private Diagnostics() {}

    /** Bulk effective sample size: the ESS of the rank-normalised split chains. */
    public static double essBulk(double[][] draws) {
        return ess(rankNormalise(split(draws)));
    }

    /** The ESS of the mean: of the split chains as they are (what the Monte Carlo standard error of the mean uses). */
    public static double essMean(double[][] draws) {
        return ess(split(draws));
    }

    /** Rank-normalised split R-hat: the larger of the bulk and the folded values. */
    public static double rhat(double[][] draws) {
        double[][] s = split(draws);
        double bulk = plainRhat(rankNormalise(s));
        double median = median(s);
        double[][] folded = new double[s.length][];
        for (int c = 0; c < s.length; c++) {
            folded[c] = Arrays.stream(s[c]).map(x -> Math.abs(x - median)).toArray();
        }
        return Math.max(bulk, plainRhat(rankNormalise(folded)));
    }

    /** The Monte Carlo standard error of the mean: {@code sd / sqrt(essMean)}. */
    public static double mcseMean(double[][] draws) {
        return sd(draws) / Math.sqrt(essMean(draws));
    }

    /** The mean over every draw. */
    public static double mean(double[][] draws) {
        double sum = 0;
        long n = 0;
        for (double[] c : draws) {
            for (double x : c) {
                sum += x;
                n++;
            }
        }
        return sum / n;
    }

    /** The standard deviation over every draw (divisor n - 1). */
    public static double sd(double[][] draws) {
        double m = mean(draws), ss = 0;
        long n = 0;
        for (double[] c : draws) {
            for (double x : c) {
                ss += (x - m) * (x - m);
                n++;
            }
        }
        return Math.sqrt(ss / (n - 1));
    }

    /** Each chain's halves as two chains (the middle draw of an odd chain is dropped, as in Stan). */
    static double[][] split(double[][] draws) {
        int n = draws[0].length, half = n / 2;
        if (half < 2) {
            throw new IllegalArgumentException("diagnostics need at least 4 draws per chain, got " + n);
        }
        double[][] out = new double[2 * draws.length][];
        for (int c = 0; c < draws.length; c++) {
            if (draws[c].length != n) {
                throw new IllegalArgumentException("chains of different lengths: " + n + " and " + draws[c].length);
            }
            out[2 * c] = Arrays.copyOfRange(draws[c], 0, half);
            out[2 * c + 1] = Arrays.copyOfRange(draws[c], n - half, n);
        }
        return out;
    }

    /** Replaces each draw by {@code Phi^-1((r - 3/8) / (S + 1/4))}, r its rank among all S draws (ties: average rank). */
    static double[][] rankNormalise(double[][] draws) {
        int m = draws.length, n = draws[0].length, total = m * n;
        double[] all = new double[total];
        Integer[] order = new Integer[total];
        for (int c = 0; c < m; c++) {
            System.arraycopy(draws[c], 0, all, c * n, n);
        }
        for (int i = 0; i < total; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(all[a], all[b]));
        double[] rank = new double[total];
        for (int i = 0; i < total; ) {
            int j = i;
            while (j + 1 < total && all[order[j + 1]] == all[order[i]]) {
                j++;
            }
            double r = (i + j) / 2.0 + 1; // 1-based average rank of the tie
            for (int k = i; k <= j; k++) {
                rank[order[k]] = r;
            }
            i = j + 1;
        }
        double[][] out = new double[m][n];
        for (int c = 0; c < m; c++) {
            for (int t = 0; t < n; t++) {
                out[c][t] = inverseNormalCdf((rank[c * n + t] - 0.375) / (total + 0.25));
            }
        }
        return out;
    }

    /** R-hat of chains as given: {@code sqrt(((n - 1) / n W + B / n) / W)}. */
    static double plainRhat(double[][] chains) {
        int m = chains.length, n = chains[0].length;
        double[] means = new double[m];
        double w = 0;
        for (int c = 0; c < m; c++) {
            means[c] = Arrays.stream(chains[c]).average().orElseThrow();
            w += variance(chains[c], means[c]);
        }
        w /= m;
        double b = n * variance(means, Arrays.stream(means).average().orElseThrow());
        return Math.sqrt(((n - 1.0) / n * w + b / n) / w);
    }

    /** ESS of chains as given, Stan's estimator (Geyer's initial monotone sequence, capped at S log10 S). */
    static double ess(double[][] chains) {
        int m = chains.length, n = chains[0].length;
        double[][] acov = new double[m][];
        double[] means = new double[m];
        double meanVar = 0;
        for (int c = 0; c < m; c++) {
            means[c] = Arrays.stream(chains[c]).average().orElseThrow();
            acov[c] = autocovariance(chains[c], means[c]);
            meanVar += acov[c][0] * n / (n - 1.0);
        }
        meanVar /= m;
        double varPlus = meanVar * (n - 1.0) / n;
        if (m > 1) {
            varPlus += variance(means, Arrays.stream(means).average().orElseThrow());
        }
        if (!(varPlus > 0)) {
            return Double.NaN; // constant draws
        }
        double[] rho = new double[n + 1];
        rho[0] = 1;
        double even = 1, odd = 1 - (meanVar - meanAcov(acov, 1)) / varPlus;
        rho[1] = odd;
        int t = 1;
        while (t < n - 4 && even + odd > 0) {
            even = 1 - (meanVar - meanAcov(acov, t + 1)) / varPlus;
            odd = 1 - (meanVar - meanAcov(acov, t + 2)) / varPlus;
            if (even + odd >= 0) {
                rho[t + 1] = even;
                rho[t + 2] = odd;
            }
            t += 2;
        }
        int maxT = t;
        if (even > 0) {
            rho[maxT + 1] = even;
        }
        for (t = 1; t <= maxT - 3; t += 2) { // initial positive sequence -> initial monotone sequence
            if (rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]) {
                rho[t + 1] = (rho[t - 1] + rho[t]) / 2;
                rho[t + 2] = rho[t + 1];
            }
        }
        double total = (double) m * n, sum = 0;
        for (t = 0; t < maxT; t++) {
            sum += rho[t];
        }
        double tau = Math.max(-1 + 2 * sum + rho[maxT + 1], 1 / Math.log10(total)); // Stan's floor: ESS <= S log10 S
        return total / tau;
    }

    private static double meanAcov(double[][] acov, int lag) {
        double s = 0;
        for (double[] a : acov) {
            s += a[lag];
        }
        return s / acov.length;
    }

    /** Autocovariances at lags 0 .. n-1 with divisor n (as Stan); O(n^2), for chains of a few thousand draws. */
    private static double[] autocovariance(double[] x, double mean) {
        int n = x.length;
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = x[i] - mean;
        }
        double[] out = new double[n];
        for (int lag = 0; lag < n; lag++) {
            double s = 0;
            for (int i = 0; i + lag < n; i++) {
                s += d[i] * d[i + lag];
            }
            out[lag] = s / n;
        }
        return out;
    }

    private static double variance(double[] x, double mean) {
        double s = 0;
        for (double v : x) {
            s += (v - mean) * (v - mean);
        }
        return s / (x.length - 1);
    }

    private static double median(double[][] draws) {
        double[] all = Arrays.stream(draws).flatMapToDouble(Arrays::stream).sorted().toArray();
        int n = all.length;
        return n % 2 == 1 ? all[n / 2] : (all[n / 2 - 1] + all[n / 2]) / 2;
    }

    /** The standard normal quantile by Acklam's rational approximation (relative error below 1.2e-9: ranks need far less). */
    static double inverseNormalCdf(double p) {
        if (!(p > 0 && p < 1)) {
            throw new IllegalArgumentException("a normal quantile needs 0 < p < 1, got " + p);
        }
        double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
            -3.066479806614716e+01, 2.506628277459239e+00};
        double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
            -1.328068155288572e+01};
        double[] c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
            4.374664141464968e+00, 2.938163982698783e+00};
        double[] d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
        double x;
        if (p < 0.02425) {
            double q = Math.sqrt(-2 * Math.log(p));
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        } else if (p > 1 - 0.02425) {
            double q = Math.sqrt(-2 * Math.log(1 - p));
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        } else {
            double q = p - 0.5, r = q * q;
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                    / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
        }
        return x;
    }
}
