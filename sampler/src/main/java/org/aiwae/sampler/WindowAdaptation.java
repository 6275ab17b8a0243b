package org.aiwae.sampler;

import java.util.ArrayList;
import java.util.List;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.random.Key;

/**
 * Stan's warm-up for HMC (the Stan Reference Manual, "HMC algorithm parameters"; BlackJAX's
 * {@code window_adaptation}): a step size adapted by dual averaging (Hoffman and Gelman 2014) toward a target
 * mean acceptance probability throughout, and a diagonal inverse mass matrix estimated from the variances of
 * the draws in slow windows of doubling length (25, 50, 100, ...) between a fast initial buffer (75) and a fast
 * terminal buffer (50); under 150 steps the buffers are 15% and 10% and one window takes the rest. After each
 * window the variances are regularised toward 1e-3 as in Stan ({@code n / (n + 5) var + 1e-3 * 5 / (n + 5)}),
 * the step size is searched again from the current one and the dual averaging restarts. The chains are
 * adapted together: one step size and one mass matrix, from every chain's acceptance and draws.
 *
 * @param target           the log density
 * @param leapfrogSteps    leapfrog steps per transition (a fixed number, as BlackJAX's {@code hmc})
 * @param targetAcceptance the mean acceptance probability to reach, in (0, 1) (Stan: 0.8)
 */
public record WindowAdaptation(LogDensity target, int leapfrogSteps, double targetAcceptance) {
    private static final double GAMMA = 0.05, T0 = 10, KAPPA = 0.75;

    public WindowAdaptation {
        if (!(targetAcceptance > 0 && targetAcceptance < 1)) {
            throw new IllegalArgumentException("the target acceptance must be in (0, 1), got " + targetAcceptance);
        }
        if (leapfrogSteps < 1) {
            throw new IllegalArgumentException("HMC needs at least one leapfrog step, got " + leapfrogSteps);
        }
    }

    /** The adapted kernel and the chains' state at the end of the warm-up. */
    public record Result(HmcKernel kernel, HmcState state) {}

    /**
     * {@code steps} warm-up transitions of the chains at {@code position [N, D]}, transition i drawing from
     * {@code key.fold(i)} (the step-size searches from other children of the key).
     */
    public Result run(Key key, Tensor position, int steps) {
        if (steps < 20) {
            throw new IllegalArgumentException("window adaptation needs at least 20 warm-up steps, got " + steps);
        }
        Key[] keys = key.split(2);
        Key transitions = keys[0], searches = keys[1];
        HmcKernel kernel = Hmc.kernel(target, new Hmc.Options(1, null, leapfrogSteps));
        HmcState state = kernel.init(position);
        int d = state.dim();
        List<int[]> windows = windows(steps);
        int window = 0, searchCount = 0;
        kernel = kernel.with(kernel.options().withStepSize(search(kernel, state, searches.fold(searchCount++))));
        DualAveraging da = new DualAveraging(kernel.options().stepSize());
        double[] sum = new double[d], sumSq = new double[d];
        long count = 0;
        for (int i = 0; i < steps; i++) {
            Hmc.Step step = kernel.step(transitions.fold(i), state);
            state = step.state();
            da.observe(step.info().meanAcceptanceProbability(), targetAcceptance);
            kernel = kernel.with(kernel.options().withStepSize(da.current()));
            if (window < windows.size() && i >= windows.get(window)[0]) {
                float[] z = state.position().toArray();
                for (int k = 0; k < z.length; k++) {
                    sum[k % d] += z[k];
                    sumSq[k % d] += (double) z[k] * z[k];
                }
                count += state.chains();
                if (i == windows.get(window)[1] - 1) {
                    float[] inverseMass = new float[d];
                    for (int j = 0; j < d; j++) {
                        double mean = sum[j] / count, var = (sumSq[j] - count * mean * mean) / (count - 1);
                        inverseMass[j] = (float) (count / (count + 5.0) * Math.max(var, 0) + 1e-3 * 5 / (count + 5.0));
                    }
                    java.util.Arrays.fill(sum, 0);
                    java.util.Arrays.fill(sumSq, 0);
                    count = 0;
                    window++;
                    kernel = kernel.with(kernel.options().withInverseMass(inverseMass));
                    kernel = kernel.with(kernel.options().withStepSize(search(kernel, state, searches.fold(searchCount++))));
                    da = new DualAveraging(kernel.options().stepSize());
                }
            }
        }
        return new Result(kernel.with(kernel.options().withStepSize(da.averaged())), state);
    }

    /** The slow windows {@code [start, end)} of a warm-up of {@code steps} transitions, as Stan lays them out. */
    static List<int[]> windows(int steps) {
        int init = 75, term = 50, base = 25;
        if (init + term + base > steps) {
            init = (int) (0.15 * steps);
            term = (int) (0.1 * steps);
            base = steps - init - term;
        }
        List<int[]> out = new ArrayList<>();
        int end = steps - term, start = init, size = base;
        while (start < end) {
            int next = start + size;
            if (next + 2 * size > end) {
                next = end;
            }
            out.add(new int[] {start, next});
            start = next;
            size *= 2;
        }
        return out;
    }

    /**
     * Stan's initial step-size search: from {@code eps}, doubles (or halves) the size while one leapfrog step's mean
     * acceptance probability stays above (or below) 0.8, and returns the last size before it crosses.
     */
    private static double search(HmcKernel kernel, HmcState state, Key key) {
        HmcKernel one = kernel.with(new Hmc.Options(kernel.options().stepSize(), kernel.options().inverseMassDiagonal(), 1));
        double eps = kernel.options().stepSize();
        double a = one.step(key.fold(0), state).info().meanAcceptanceProbability();
        int direction = a > 0.8 ? 1 : -1;
        for (int i = 1; i <= 60; i++) {
            double next = direction > 0 ? eps * 2 : eps / 2;
            a = one.with(one.options().withStepSize(next)).step(key.fold(i), state).info().meanAcceptanceProbability();
            if (direction > 0 ? !(a > 0.8) : a > 0.8) {
                return direction > 0 ? eps : next;
            }
            eps = next;
        }
        return eps;
    }

    /** Dual averaging of log step sizes (Hoffman and Gelman 2014, Algorithm 5, with Stan's constants). */
    private static final class DualAveraging {
        private final double mu;
        private double hBar, logEps, logEpsBar;
        private int t;

        DualAveraging(double eps) {
            mu = Math.log(10 * eps);
            logEps = Math.log(eps);
        }

        void observe(double acceptance, double target) {
            t++;
            double eta = 1 / (t + T0);
            hBar = (1 - eta) * hBar + eta * (target - acceptance);
            logEps = mu - Math.sqrt(t) / GAMMA * hBar;
            double w = Math.pow(t, -KAPPA);
            logEpsBar = w * logEps + (1 - w) * logEpsBar;
        }

        double current() {
            return Math.exp(logEps);
        }

        double averaged() {
            return t == 0 ? Math.exp(logEps) : Math.exp(logEpsBar);
        }
    }
}
