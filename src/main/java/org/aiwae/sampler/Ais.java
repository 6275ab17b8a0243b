package org.aiwae.sampler;

import static org.aiwae.engine.backend.BinaryOp.ADD;
import static org.aiwae.engine.backend.BinaryOp.MUL;
import static org.aiwae.engine.backend.BinaryOp.SUB;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.random.ChainNoise;

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
            float[] s = logWeight.toArray(), c = compensation.toArray();
            double[] w = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                w[i] = (double) s[i] - c[i];
            }
            return w;
        }

        /** The log weights as a float tensor in the chains' memory. */
        public Tensor logWeightTensor() {
            return Backends.of("ais", logWeight, compensation).binary(SUB, logWeight, compensation);
        }
    }

    /** A step's outcome. */
    public record Step(State state, HmcInfo info) {}

    /** Called after each temperature with its index t (1..T-1) and the fraction of chains that accepted. */
    @FunctionalInterface
    public interface Progress {
        void temperatureDone(int t, double acceptance);
    }

    /** A run's outcome: the final state, the acceptance per temperature step, divergences per chain. */
    public record Result(State state, double[] acceptance, Tensor divergent) {
        /** The number of divergent transitions over the run (a host read). */
        public int divergences() {
            return Math.round(Backends.of(divergent).reduce(ReduceOp.SUM, divergent, 0).item());
        }
    }

    /** Chains at {@code position [N, D]} (draws from the base density), at beta 0 with log weights 0. */
    public State init(Tensor position) {
        HmcState s = new Tempered(base, target, 0).at(position);
        return new State(s, 0, position.placement().zeros(s.chains()), position.placement().zeros(s.chains()));
    }

    /** Reweights to {@code beta} and moves the chains there; {@code stepSize} as {@link Hmc#step} takes it. */
    public Step step(ChainNoise noise, State state, double beta, Tensor stepSize) {
        if (beta < state.beta()) {
            throw new IllegalArgumentException("AIS: beta must not decrease, from " + state.beta() + " to " + beta);
        }
        Backend be = Backends.of(state.logWeight());
        Tensor increment = be.binary(MUL, Tempered.logRatio(state.chains()), (float) (beta - state.beta()));
        // Kahan: the compensation carries what the float sum lost
        Tensor y = be.binary(SUB, increment, state.compensation());
        Tensor sum = be.binary(ADD, state.logWeight(), y);
        Tensor compensation = be.binary(SUB, be.binary(SUB, sum, state.logWeight()), y);
        Hmc.Step move = hmc.step(noise, new Tempered(base, target, beta), state.chains(), stepSize);
        return new Step(new State(move.state(), beta, sum, compensation), move.info());
    }

    /**
     * Runs from {@code start} through {@code betas[1..]} (from {@code betas[0] = start.beta()}), taking
     * step sizes from slot {@code t - 1} of {@code stepSizes} at temperature t and adapting it from the
     * acceptance (one host read per temperature). The returned state's tensors were made before the loop;
     * every temperature's temporaries go back to the backend's pool as soon as it is done.
     */
    public Result run(State start, double[] betas, StepSizes stepSizes, ChainNoise noise, Progress progress) {
        Backend be = Backends.of(start.logWeight());
        HmcState chains = start.chains().copy();
        State state = new State(chains, betas[0], start.logWeight().copy(), start.compensation().copy());
        Tensor divergent = start.logWeight().placement().zeros(chains.chains());
        double[] acceptance = new double[betas.length - 1];
        for (int t = 1; t < betas.length; t++) {
            try (Backend.Reclaim temporaries = be.reclaim()) {
                Tensor eps = stepSizes.forChains(t - 1, chains.position().placement(), chains.chains());
                Step s = step(noise, state, betas[t], eps);
                chains.assign(s.state().chains());
                state.logWeight().copyFrom(s.state().logWeight());
                state.compensation().copyFrom(s.state().compensation());
                divergent.copyFrom(be.binary(ADD, divergent, s.info().divergent()));
                acceptance[t - 1] = stepSizes.observe(t - 1, s.info().accepted());
            }
            state = new State(chains, betas[t], state.logWeight(), state.compensation());
            if (progress != null) {
                progress.temperatureDone(t, acceptance[t - 1]);
            }
        }
        return new Result(state, acceptance, divergent);
    }
}
