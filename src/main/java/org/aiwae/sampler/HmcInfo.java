package org.aiwae.sampler;

/**
 * What one HMC transition did.
 *
 * @param accepted    per chain, whether the proposal was accepted
 * @param acceptance  fraction of chains that accepted
 * @param divergences chains whose energy error was non-finite or above 1000
 */
public record HmcInfo(boolean[] accepted, double acceptance, int divergences) {}
