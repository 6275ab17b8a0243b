package org.aiwae.sampler;

import static org.aiwae.engine.backend.BinaryOp.SUB;

import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.function.IntConsumer;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.math.LogMeanExp;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.Key;

/**
 * Annealed importance sampling (Neal 2001) along the {@link Tempered} path from {@code base} to
 * {@code target}, written once over the engine's primitives: a step to inverse temperature beta adds
 * {@code (beta - beta_prev) (log f1 - log f0)} at the current positions to each chain's log weight,
 * then moves the chains with an {@link Hmc} transition that leaves {@code f_beta} invariant. The log
 * weights are float tensors summed with Kahan's compensation ({@link State#logWeights()} reads them
 * in double), so a run of 10,000 temperatures loses no more than float rounding of the total. With
 * one step (betas 0, 1) they are the plain importance weights {@code log f1 - log f0}.
 *
 * <p>{@link #step} is the kernel (immutable states); {@link #run} the loop over a schedule with a
 * {@link StepSizes} adaptation, keeping one set of buffers however many temperatures it runs.
 */
public record Ais(Hmc hmc, LogDensity base, LogDensity target) {

    /**
     * The chains, the inverse temperature they are at, and their log weights as a compensated sum:
     * {@code logWeight - compensation}, both {@code [N]}.
     */
    public record State(HmcState chains, double beta, Tensor logWeight, Tensor compensation) {

        /** Each chain's log weight in double (a host read). */
        public double[] logWeights() {
            return compensated(logWeight, compensation);
        }

        /** The log weights as a float tensor in the chains' memory. */
        public Tensor logWeightTensor() {
            return Backends.of("ais", logWeight, compensation).binary(SUB, logWeight, compensation);
        }
    }

    /** The values of a float sum kept with Kahan's compensation, {@code sum - compensation}, in double (a host read on a device). */
    public static double[] compensated(Tensor sum, Tensor compensation) {
        float[] s = sum.toArray(), c = compensation.toArray();
        double[] w = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            w[i] = (double) s[i] - c[i];
        }
        return w;
    }

    /** A step's outcome. */
    public record Step(State state, HmcInfo info) {}

    /**
     * Called after each temperature's work is issued, with its index t (1..T-1) and the fraction of chains that accepted
     * there on demand: on a device the work may still be running, and asking waits for it (a host read), so a progress
     * report that needs no acceptance costs the device nothing.
     */
    @FunctionalInterface
    public interface Progress {
        void temperatureDone(int t, DoubleSupplier acceptance);
    }

    /**
     * A run's outcome: the final state, the number of accepting chains per temperature step ({@code [T - 1]}) and
     * the divergent transitions per chain ({@code [N]}), as tensors in the chains' memory (read on demand).
     */
    public record Result(State state, Tensor acceptedCounts, Tensor divergent) {
        /** The fraction of chains that accepted at each temperature step (a host read on a device). */
        public double[] acceptance() {
            float[] c = acceptedCounts.toArray();
            double[] a = new double[c.length];
            for (int t = 0; t < c.length; t++) {
                a[t] = c[t] / (double) divergent.size();
            }
            return a;
        }

        /** The number of divergent transitions over the run (a host read). */
        public int divergences() {
            return Math.round(Backends.of(divergent).reduce(ReduceOp.SUM, divergent, 0).item());
        }

        /**
         * The estimate of {@code log Z = log integral f1 / integral f0} when every chain anneals the same pair of
         * densities: the log of the mean importance weight, {@code log mean exp(log w)}, in double (a host read).
         */
        public double logZ() {
            return LogMeanExp.of(state.logWeights());
        }

        /**
         * The standard error of {@link #logZ()} by the delta method, {@code sd(w) / (sqrt(N) mean(w))}: reliable when the
         * weights' {@link #effectiveSampleSize()} is large (a host read).
         */
        public double standardError() {
            return Weights.of(state.logWeights()).standardErrorOfLogMean();
        }

        /** Kish's effective sample size of the weights, {@code (sum w)^2 / sum w^2}, between 1 and N (a host read). */
        public double effectiveSampleSize() {
            return Weights.of(state.logWeights()).effectiveSampleSize();
        }
    }

    /** Importance weights {@code exp(log w)} divided by the largest, so that none overflows. */
    private record Weights(double[] scaled) {
        static Weights of(double[] logWeights) {
            double max = java.util.Arrays.stream(logWeights).max().orElseThrow();
            return new Weights(java.util.Arrays.stream(logWeights).map(l -> Math.exp(l - max)).toArray());
        }

        double mean() {
            return java.util.Arrays.stream(scaled).average().orElseThrow();
        }

        double standardErrorOfLogMean() {
            double m = mean(), ss = 0;
            for (double w : scaled) {
                ss += (w - m) * (w - m);
            }
            int n = scaled.length;
            return Math.sqrt(ss / (n - 1)) / (Math.sqrt(n) * m);
        }

        double effectiveSampleSize() {
            double s = 0, s2 = 0;
            for (double w : scaled) {
                s += w;
                s2 += w * w;
            }
            return s * s / s2;
        }
    }

    /** Chains at {@code position [N, D]} (draws from the base density), at beta 0 with log weights 0. */
    public State init(Tensor position) {
        HmcState s = new Tempered(base, target, 0).at(position);
        return new State(s, 0, position.placement().zeros(s.chains()), position.placement().zeros(s.chains()));
    }

    /** {@link #step(ChainNoise, State, double, Tensor)} drawing from {@code key}'s stream. */
    public Step step(Key key, State state, double beta, Tensor stepSize) {
        return step(new ChainNoise.Shared(key.stream()), state, beta, stepSize);
    }

    /** Reweights to {@code beta} and moves the chains there; {@code stepSize} as {@link Hmc#step} takes it. */
    public Step step(ChainNoise noise, State state, double beta, Tensor stepSize) {
        Backend be = Backends.of(state.logWeight());
        Tensor sum = state.logWeight().placement().zeros(state.logWeight().size()), compensation = sum.placement().zeros(sum.size());
        reweight(be, state.chains(), state.beta(), beta, state.logWeight(), state.compensation(), sum, compensation);
        Hmc.Step move = hmc.step(noise, new Tempered(base, target, beta), state.chains(), stepSize);
        return new Step(new State(move.state(), beta, sum, compensation), move.info());
    }

    /**
     * Adds {@code (beta - previous) (log f1 - log f0)} of {@code chains} to the log weights {@code w - c}, into {@code sum} and
     * {@code compensation}.
     */
    private static void reweight(Backend be, HmcState chains, double previous, double beta, Tensor w, Tensor c, Tensor sum,
                                 Tensor compensation) {
        if (beta < previous) {
            throw new IllegalArgumentException("AIS: beta must not decrease, from " + previous + " to " + beta);
        }
        List<Tensor> logs = chains.logDensities();
        be.reweight(logs.get(0), logs.get(1), (float) (beta - previous), w, c, sum, compensation);
    }

    /**
     * How a run issues its temperatures 1..{@code last}: {@code temperature.accept(t)} issues the work of temperature t (the
     * same operations on the same buffers at every t, only the inverse temperature, the count's slot and the random
     * numbers' position differ), {@code done.accept(t)} reports it. {@link #DIRECT} issues each in turn; on a device, a
     * loop may record one temperature and replay it (the application's annealer does, with the schedule on the device).
     */
    @FunctionalInterface
    public interface Loop {
        void run(int last, IntConsumer temperature, IntConsumer done);

        /** Each temperature issued directly, in order. */
        Loop DIRECT = (last, temperature, done) -> {
            for (int t = 1; t <= last; t++) {
                temperature.accept(t);
                done.accept(t);
            }
        };
    }

    /**
     * Runs from {@code start} through {@code betas[1..]} (from {@code betas[0] = start.beta()}), taking
     * step sizes from slot {@code t - 1} of {@code stepSizes} at temperature t and adapting it from the
     * acceptance, all in the chains' memory: nothing is read back unless {@code progress} asks for a temperature's
     * acceptance (one count). The returned state's tensors were made before the loop and are updated in place; every
     * temperature's temporaries go back to the backend's pool as soon as it is done.
     */
    public Result run(State start, double[] betas, StepSizes stepSizes, Key key, Progress progress) {
        return run(start, betas, stepSizes, new ChainNoise.Shared(key.stream()), progress);
    }

    /**
     * {@link #run(State, double[], StepSizes, Key, Progress)} drawing from {@code noise} (the application's annealing
     * keeps one stream per minibatch or one per data point).
     */
    public Result run(State start, double[] betas, StepSizes stepSizes, ChainNoise noise, Progress progress) {
        State copy = new State(start.chains().copy(), start.beta(), start.logWeight().copy(), start.compensation().copy());
        return runInPlace(copy, betas, stepSizes, noise, progress);
    }

    /**
     * {@link #run}, updating {@code start}'s tensors in place instead of copies of them (they become the result's): for a
     * start state nothing else uses, such as a fresh {@link #init}.
     */
    public Result runInPlace(State start, double[] betas, StepSizes stepSizes, ChainNoise noise, Progress progress) {
        return runInPlace(start, betas, stepSizes, noise, progress, Loop.DIRECT);
    }

    /** {@link #runInPlace(State, double[], StepSizes, ChainNoise, Progress)} issuing the temperatures through {@code loop}. */
    public Result runInPlace(State start, double[] betas, StepSizes stepSizes, ChainNoise noise, Progress progress, Loop loop) {
        Backend be = Backends.of(start.logWeight());
        Placement where = start.logWeight().placement();
        HmcState chains = start.chains();
        Tensor logWeight = start.logWeight(), compensation = start.compensation();
        Tensor divergent = where.zeros(chains.chains());
        Tensor accepted = where.zeros(betas.length - 1);
        stepSizes.moveTo(where);
        loop.run(betas.length - 1, t -> {
            try (Backend.Reclaim temporaries = be.reclaim()) {
                Tensor eps = stepSizes.forChains(t - 1, where, chains.chains());
                reweight(be, chains, betas[t - 1], betas[t], logWeight, compensation, logWeight, compensation);
                Hmc.Proposal move = hmc.propose(noise, new Tempered(base, target, betas[t]), chains, eps, divergent);
                chains.acceptInto(move.info().accepted(), move.proposal());
                stepSizes.observe(t - 1, move.info().accepted(), accepted.rows(t - 1, t));
            }
        }, t -> {
            if (progress != null) {
                progress.temperatureDone(t, () -> accepted.get(t - 1) / (double) chains.chains());
            }
        });
        return new Result(new State(chains, betas[betas.length - 1], logWeight, compensation), accepted, divergent);
    }
}
