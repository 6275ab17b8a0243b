package org.aiwae.sampler;

import org.aiwae.engine.Tensor;

/**
 * The two log-densities that annealing moves between, for N chains at once:
 * {@code log f_beta(z) = (1 - beta) log f0(z) + beta log f1(z)}. In AIS and AIWAE f0 is
 * {@code q(z|x)} and f1 is {@code p(x, z)}; for plain HMC on a density, use beta = 1.
 */
public interface AnnealingPath {

    /** Number of chains N. */
    int chains();

    /** Dimension of each chain's position. */
    int dim();

    /**
     * Evaluates both densities and their gradients at positions {@code z [N, dim]}: writes
     * {@code log0 [N]}, {@code grad0 [N, dim]}, {@code log1 [N]}, {@code grad1 [N, dim]}.
     */
    void evaluate(Tensor z, Tensor log0, Tensor grad0, Tensor log1, Tensor grad1);
}
