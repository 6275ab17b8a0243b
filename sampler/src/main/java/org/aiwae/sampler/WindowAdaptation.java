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
 * the step size is searched again from the current one and the dual averaging restarts. As in Stan, each chain
 * adapts on its own (its acceptance, its draws): the chains are moved together, each with its step size and
 * mass matrix ({@link Hmc.Options} per chain), so that a chain still far from the others does not set theirs.
 *
 * <p>The number of leapfrog steps stays fixed (there is no NUTS): a step size times L near pi/2 suits a
 * unit-scale Gaussian-like coordinate; near pi the chains come back near their start and a scale mixes slowly.
 *
 * <p>The step size's rule is a choice ({@link StepSizeRule}): Stan's {@link DualAveraging}, or the paper's
 * multiplicative rule ({@link StepSizes.Rule}: each chain's size times {@code up} after a transition it accepted,
 * else times {@code down}, through {@link StepSizes} with one group per chain, the application's formula).
 *
 * @param target        the log density
 * @param leapfrogSteps leapfrog steps per transition (a fixed number, as BlackJAX's {@code hmc})
 * @param stepSizes     how the step sizes adapt
 * @param jitter        the step-size jitter of the kernel, during the warm-up and after ({@link Hmc.Options})
 */
public record WindowAdaptation(LogDensity target, int leapfrogSteps, StepSizeRule stepSizes, double jitter) {
    private static final double GAMMA = 0.05, T0 = 10, KAPPA = 0.75;

    /** How a warm-up adapts the step sizes. */
    public sealed interface StepSizeRule permits DualAveraging, StepSizes.Rule {}

    /** Stan's dual averaging toward a mean acceptance probability in (0, 1) (Stan: 0.8). */
    public record DualAveraging(double targetAcceptance) implements StepSizeRule {
        public DualAveraging {
            if (!(targetAcceptance > 0 && targetAcceptance < 1)) {
                throw new IllegalArgumentException("the target acceptance must be in (0, 1), got " + targetAcceptance);
            }
        }
    }

    /** Stan's warm-up: dual averaging toward {@code targetAcceptance}. */
    public WindowAdaptation(LogDensity target, int leapfrogSteps, double targetAcceptance, double jitter) {
        this(target, leapfrogSteps, new DualAveraging(targetAcceptance), jitter);
    }

    public WindowAdaptation {
        if (leapfrogSteps < 1) {
            throw new IllegalArgumentException("HMC needs at least one leapfrog step, got " + leapfrogSteps);
        }
        java.util.Objects.requireNonNull(stepSizes, "stepSizes");
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
        int n = position.dim(0), d = position.rank() == 2 ? position.dim(1) : 0;
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        HmcKernel kernel = Hmc.kernel(target, new Hmc.Options(ones, null, leapfrogSteps, jitter));
        HmcState state = kernel.init(position);
        List<int[]> windows = windows(steps);
        int window = 0, searchCount = 0;
        kernel = kernel.with(kernel.options().withStepSizes(search(kernel, state, searches.fold(searchCount++))));
        Adapter adapter = adapter(kernel.options().stepSizes());
        double[][] mean = new double[n][d], m2 = new double[n][d]; // Welford's running mean and sum of squared deviations
        int count = 0;
        for (int i = 0; i < steps; i++) {
            Hmc.Step step = kernel.step(transitions.fold(i), state);
            state = step.state();
            kernel = kernel.with(kernel.options().withStepSizes(adapter.observe(step.info())));
            if (window < windows.size() && i >= windows.get(window)[0]) {
                float[] z = state.position().toArray();
                count++;
                for (int c = 0; c < n; c++) {
                    for (int j = 0; j < d; j++) {
                        double delta = z[c * d + j] - mean[c][j];
                        mean[c][j] += delta / count;
                        m2[c][j] += delta * (z[c * d + j] - mean[c][j]);
                    }
                }
                if (i == windows.get(window)[1] - 1) {
                    float[][] inverseMass = new float[n][d];
                    for (int c = 0; c < n; c++) {
                        for (int j = 0; j < d; j++) {
                            double var = m2[c][j] / (count - 1);
                            inverseMass[c][j] = (float) (count / (count + 5.0) * var + 1e-3 * 5 / (count + 5.0));
                        }
                        java.util.Arrays.fill(mean[c], 0);
                        java.util.Arrays.fill(m2[c], 0);
                    }
                    count = 0;
                    window++;
                    kernel = kernel.with(kernel.options().withInverseMass(inverseMass));
                    kernel = kernel.with(kernel.options().withStepSizes(search(kernel, state, searches.fold(searchCount++))));
                    adapter = adapter(kernel.options().stepSizes());
                }
            }
        }
        return new Result(kernel.with(kernel.options().withStepSizes(adapter.result())), state);
    }

    /** A warm-up's step sizes between two searches: what each transition's outcome makes of them. */
    private interface Adapter {
        /** The step sizes for the next transition after {@code info}. */
        float[] observe(HmcInfo info);

        /** The step sizes sampling uses. */
        float[] result();
    }

    private Adapter adapter(float[] start) {
        return switch (stepSizes) {
            case DualAveraging d -> new Averaging(start, d.targetAcceptance());
            case StepSizes.Rule r -> new Multiplicative(start, r);
        };
    }

    /** The paper's rule, one group per chain: {@link StepSizes#observe} on each transition's accepted chains. */
    private static final class Multiplicative implements Adapter {
        private final StepSizes table;

        Multiplicative(float[] start, StepSizes.Rule rule) {
            table = new StepSizes(1, start.length, rule.min(), rule);
            float[] clamped = new float[start.length];
            for (int c = 0; c < start.length; c++) {
                clamped[c] = Math.min(rule.max(), Math.max(rule.min(), start[c]));
            }
            table.load(clamped);
        }

        @Override
        public float[] observe(HmcInfo info) {
            table.observe(0, info.accepted());
            return table.slot(0);
        }

        @Override
        public float[] result() {
            return table.slot(0);
        }
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
     * Stan's initial step-size search, chain by chain: from the chain's step size, doubles (or halves) it while one
     * leapfrog step's acceptance probability stays above (or below) 0.8, and keeps the last size before it crosses.
     */
    private static float[] search(HmcKernel kernel, HmcState state, Key key) {
        HmcKernel one = kernel.with(kernel.options().withLeapfrogSteps(1).withJitter(0));
        float[] eps = kernel.options().stepSizes();
        int n = eps.length;
        double[] a = one.step(key.fold(0), state).info().acceptanceProbabilities();
        int[] direction = new int[n];
        boolean[] done = new boolean[n];
        for (int c = 0; c < n; c++) {
            direction[c] = a[c] > 0.8 ? 1 : -1;
        }
        for (int i = 1; i <= 60; i++) {
            float[] next = eps.clone();
            boolean any = false;
            for (int c = 0; c < n; c++) {
                if (!done[c]) {
                    next[c] = direction[c] > 0 ? eps[c] * 2 : eps[c] / 2;
                    any = true;
                }
            }
            if (!any || Float.isInfinite(max(next)) || min(next) == 0) {
                break;
            }
            a = one.with(one.options().withStepSizes(next)).step(key.fold(i), state).info().acceptanceProbabilities();
            for (int c = 0; c < n; c++) {
                if (!done[c]) {
                    boolean crossed = direction[c] > 0 ? !(a[c] > 0.8) : a[c] > 0.8;
                    if (crossed) {
                        done[c] = true;
                        if (direction[c] < 0) {
                            eps[c] = next[c];
                        }
                    } else {
                        eps[c] = next[c];
                    }
                }
            }
        }
        return eps;
    }

    private static float max(float[] x) {
        float m = x[0];
        for (float v : x) {
            m = Math.max(m, v);
        }
        return m;
    }

    private static float min(float[] x) {
        float m = x[0];
        for (float v : x) {
            m = Math.min(m, v);
        }
        return m;
    }

    /** Dual averaging of each chain's log step size (Hoffman and Gelman 2014, Algorithm 5, with Stan's constants). */
    private static final class Averaging implements Adapter {
        private final double[] mu, hBar, logEps, logEpsBar;
        private final double target;
        private int t;

        Averaging(float[] eps, double target) {
            this.target = target;
            int n = eps.length;
            mu = new double[n];
            hBar = new double[n];
            logEps = new double[n];
            logEpsBar = new double[n];
            for (int c = 0; c < n; c++) {
                mu[c] = Math.log(10 * eps[c]);
                logEps[c] = Math.log(eps[c]);
            }
        }

        /** Takes each chain's acceptance probability and returns the step sizes for the next transition. */
        @Override
        public float[] observe(HmcInfo info) {
            double[] acceptance = info.acceptanceProbabilities();
            t++;
            double eta = 1 / (t + T0), w = Math.pow(t, -KAPPA);
            float[] out = new float[mu.length];
            for (int c = 0; c < mu.length; c++) {
                hBar[c] = (1 - eta) * hBar[c] + eta * (target - acceptance[c]);
                logEps[c] = mu[c] - Math.sqrt(t) / GAMMA * hBar[c];
                logEpsBar[c] = w * logEps[c] + (1 - w) * logEpsBar[c];
                out[c] = (float) Math.exp(logEps[c]);
            }
            return out;
        }

        /** The averaged step sizes: what sampling uses after the warm-up. */
        @Override
        public float[] result() {
            float[] out = new float[mu.length];
            for (int c = 0; c < mu.length; c++) {
                out[c] = (float) Math.exp(t == 0 ? logEps[c] : logEpsBar[c]);
            }
            return out;
        }
    }
}
