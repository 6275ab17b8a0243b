package org.aiwae.sampler;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.ReduceOp;

/**
 * What one HMC transition did, per chain, in the chains' memory (reading it is a host copy).
 *
 * @param accepted     1 where the proposal was accepted, else 0, {@code [N]}
 * @param divergent    1 where the energy change was NaN or above {@link Hmc#DIVERGENCE}, {@code [N]}
 * @param energyChange the proposal's energy minus the current one, {@code [N]}
 */
public record HmcInfo(Tensor accepted, Tensor divergent, Tensor energyChange) {

    /**
     * Each chain's Metropolis acceptance probability {@code min(1, exp(-energyChange))}, 0 where the energy change
     * is NaN (a host read).
     */
    public double[] acceptanceProbabilities() {
        float[] dh = energyChange.toArray();
        double[] p = new double[dh.length];
        for (int i = 0; i < dh.length; i++) {
            p[i] = Float.isNaN(dh[i]) ? 0 : Math.min(1, Math.exp(-(double) dh[i]));
        }
        return p;
    }

    /** The chains' mean acceptance probability (a host read): what a step-size adaptation averages. */
    public double meanAcceptanceProbability() {
        double sum = 0;
        double[] p = acceptanceProbabilities();
        for (double v : p) {
            sum += v;
        }
        return sum / p.length;
    }

    /** The fraction of chains that accepted (a host read). */
    public double acceptance() {
        return Backends.of(accepted).reduce(ReduceOp.SUM, accepted, 0).item() / accepted.size();
    }

    /** The number of divergent chains (a host read). */
    public int divergences() {
        return Math.round(Backends.of(divergent).reduce(ReduceOp.SUM, divergent, 0).item());
    }
}
