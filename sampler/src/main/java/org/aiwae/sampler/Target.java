package org.aiwae.sampler;

import java.util.List;
import org.aiwae.engine.Tensor;

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
