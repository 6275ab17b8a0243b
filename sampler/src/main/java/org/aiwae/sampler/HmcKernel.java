package org.aiwae.sampler;

import java.util.List;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.Key;

/**
 * HMC on one log density, shaped like a BlackJAX kernel: {@link #init}{@code (position) -> state} evaluates the
 * target at N chains' positions {@code [N, D]}; {@link #step}{@code (key, state) -> (state, info)} is one
 * transition of every chain, its randomness all from {@code key} (N*D momenta then N Metropolis uniforms, the
 * first values of the key's stream; with step-size jitter, N uniforms of the key's first split child). States
 * are immutable; a state's tensors live where its positions do.
 *
 * <p>A diagonal inverse mass matrix {@code M^-1 = diag(s^2)} is HMC with an identity mass on {@code y = z / s}:
 * the kernel runs {@link Hmc}'s transition (the same backend primitives as the application's annealing) on
 * {@code log f(s y)}, whose gradient is {@code s * grad log f}, and maps the proposal back, so the target is
 * always evaluated at positions in its own coordinates.
 *
 * @param target  the log density
 * @param options step sizes, inverse mass matrix diagonals (null: identity), leapfrog steps, jitter
 */
public record HmcKernel(LogDensity target, Hmc.Options options) {

    /** Evaluates the target at {@code position [N, D]}: the chains' first state. */
    public HmcState init(Tensor position) {
        if (position.rank() != 2) {
            throw new IllegalArgumentException("positions must be [N, D] (N chains), got " + java.util.Arrays.toString(position.shape()));
        }
        options.stepSizeTensor(position.dim(0), Key.of(0));
        options.scales(position.dim(0), position.dim(1));
        return Target.of(target).at(position);
    }

    /** One transition of every chain in {@code state}; the same key gives the same transition. */
    public Hmc.Step step(Key key, HmcState state) {
        if (state.logDensities().size() != 1) {
            throw new IllegalArgumentException("an HmcKernel moves states of one log density; this one has " + state.logDensities().size());
        }
        Hmc hmc = new Hmc(options.leapfrogSteps());
        ChainNoise noise = new ChainNoise.Shared(key.stream());
        Placement where = state.position().placement();
        Tensor eps = options.stepSizeTensor(state.chains(), key.split(1)[0]).to(where);
        Tensor scales = options.scales(state.chains(), state.dim());
        if (scales == null) {
            return hmc.step(noise, Target.of(target), state, eps);
        }
        Tensor s = scales.to(where);
        Backend be = Backends.of(where);
        LogDensity scaled = new LogDensity() {
            @Override
            public Value at(Tensor y) {
                Value v = target.at(be.binary(BinaryOp.MUL, y, s));
                return new Value(v.logDensity(), be.binary(BinaryOp.MUL, v.gradient(), s));
            }

            @Override
            public Tensor gradient(Tensor y) {
                return be.binary(BinaryOp.MUL, target.gradient(be.binary(BinaryOp.MUL, y, s)), s);
            }
        };
        HmcState y = new HmcState(be.binary(BinaryOp.DIV, state.position(), s), state.logDensities(),
                List.of(be.binary(BinaryOp.MUL, state.gradients().get(0), s)));
        Hmc.Proposal p = hmc.propose(noise, Target.of(scaled), y, eps, null);
        HmcState proposal = p.proposal();
        // the proposal's position times s is where the target was evaluated (the same product, the same bits)
        HmcState back = new HmcState(be.binary(BinaryOp.MUL, proposal.position(), s), proposal.logDensities(),
                List.of(be.binary(BinaryOp.DIV, proposal.gradients().get(0), s)));
        return new Hmc.Step(back.where(p.info().accepted(), state), p.info());
    }

    /** The same kernel with other options (what an adaptation does between windows). */
    public HmcKernel with(Hmc.Options other) {
        return new HmcKernel(target, other);
    }

    /**
     * {@code draws} transitions from {@code state}, transition i with key {@code key.fold(i)}, recording every chain's
     * position after each (a host read per transition): the sampling loop.
     */
    public Trace sample(Key key, HmcState state, int draws) {
        if (draws < 1) {
            throw new IllegalArgumentException("sampling needs at least one draw, got " + draws);
        }
        int n = state.chains(), d = state.dim();
        double[][][] out = new double[d][n][draws];
        int divergences = 0;
        double acceptance = 0;
        for (int i = 0; i < draws; i++) {
            Hmc.Step step = step(key.fold(i), state);
            state = step.state();
            float[] z = state.position().toArray();
            for (int c = 0; c < n; c++) {
                for (int j = 0; j < d; j++) {
                    out[j][c][i] = z[c * d + j];
                }
            }
            divergences += step.info().divergences();
            acceptance += step.info().meanAcceptanceProbability();
        }
        return new Trace(out, state, acceptance / draws, divergences);
    }
}
