package org.aiwae.sampler;

import java.util.List;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;

/**
 * The log-density HMC moves on, as a weighted sum of terms evaluated together:
 * {@code log f = sum_i c_i log f_i}. One term with weight 1 is a plain target ({@link #of}); two are
 * a tempered path ({@link Tempered}). {@link #at} evaluates every term; {@link #logDensity} and
 * {@link #gradient} combine a state's cached terms, so a target with other weights reads the same
 * state without evaluating anything again. A target is a log density, not an energy: HMC's potential
 * energy is {@code U = -log f}.
 */
public interface Target {

    /** Evaluates every term at {@code position [N, D]}. */
    HmcState at(Tensor position);

    /** {@code log f} of each chain of a state this target's terms evaluated, {@code [N]}. */
    Tensor logDensity(HmcState state);

    /** {@code d log f / dz} of each chain, {@code [N, D]}. */
    Tensor gradient(HmcState state);

    /**
     * {@code d log f / dz} at {@code position} with no state: the same bits as
     * {@code gradient(at(position))}, for leapfrog steps whose log-densities nobody reads.
     */
    default Tensor gradientAt(Tensor position) {
        return gradient(at(position));
    }

    /**
     * A leapfrog kick with the gradient of {@code state}'s terms, then a drift from {@code z} unless it is null:
     * {@link Backend#kickDrift} with {@link #gradient}{@code (state)}.
     */
    default Backend.Leapfrog kick(Tensor p, Tensor eps, float scale, HmcState state, Tensor z) {
        return Backends.of("kick", p, eps).kickDrift(p, eps, scale, gradient(state), z);
    }

    /**
     * A leapfrog kick with the gradient at {@code z}, then a drift from {@code z}: {@link Backend#kickDrift} with
     * {@link #gradientAt}{@code (z)}.
     */
    default Backend.Leapfrog kickAt(Tensor p, Tensor eps, float scale, Tensor z) {
        return Backends.of("kick", p, eps).kickDrift(p, eps, scale, gradientAt(z), z);
    }

    /**
     * HMC's Metropolis test from {@code s0} with momenta {@code p0} to {@code s1} with {@code p1}: {@link Backend#metropolis}
     * with {@link #logDensity} of each state.
     */
    default Backend.Metropolis metropolis(HmcState s0, Tensor p0, HmcState s1, Tensor p1, Tensor u, float limit, Tensor divergentInto) {
        return Backends.of("metropolis", p0, p1).metropolis(logDensity(s0), p0, logDensity(s1), p1, u, limit, divergentInto);
    }

    /** A single log-density. */
    static Target of(LogDensity density) {
        return new Target() {
            @Override
            public HmcState at(Tensor position) {
                LogDensity.Value v = density.at(position);
                return new HmcState(position, List.of(v.logDensity()), List.of(v.gradient()));
            }

            @Override
            public Tensor logDensity(HmcState state) {
                return state.logDensities().get(0);
            }

            @Override
            public Tensor gradient(HmcState state) {
                return state.gradients().get(0);
            }

            @Override
            public Tensor gradientAt(Tensor position) {
                return density.gradient(position);
            }
        };
    }
}
