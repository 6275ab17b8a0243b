package org.aiwae.sampler;

import static org.aiwae.engine.backend.BinaryOp.ADD;
import static org.aiwae.engine.backend.BinaryOp.LESS;
import static org.aiwae.engine.backend.BinaryOp.MUL;
import static org.aiwae.engine.backend.BinaryOp.SUB;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.backend.UnaryOp;
import org.aiwae.engine.random.ChainNoise;

/**
 * Hamiltonian Monte Carlo with an identity mass matrix, written once over the engine's primitives
 * so that it runs wherever the chains' tensors live (host or device), shaped like a sampler
 * library's kernel: {@code step(noise, potential, state, stepSize) -> (state, info)}. One transition
 * draws fresh momenta, takes {@code leapfrogSteps} leapfrog steps with per-chain step sizes, and
 * accepts or rejects each chain's proposal by a Metropolis test on the energy change. A proposal
 * whose energy rose by more than {@value #DIVERGENCE} (or became NaN) is rejected and counted as
 * divergent.
 *
 * <p>Random numbers, per transition: N*D standard normals (the momenta), then N uniforms (the
 * tests), from {@code noise}; the same streams on every backend.
 *
 * @param leapfrogSteps L, at least 1
 */
public record Hmc(int leapfrogSteps) {
    /** Energy increase beyond which a proposal counts as divergent. */
    public static final float DIVERGENCE = 1000f;

    public Hmc {
        if (leapfrogSteps < 1) {
            throw new IllegalArgumentException("HMC needs at least one leapfrog step, got " + leapfrogSteps);
        }
    }

    /** A transition's outcome. */
    public record Step(HmcState state, HmcInfo info) {}

    /**
     * One transition of the chains in {@code state} (evaluated by {@code potential}, or by a potential
     * with the same terms) on {@code potential}. {@code stepSize} is {@code [N, 1]} (one per chain) or
     * {@code [1, 1]}, in the chains' memory.
     */
    public Step step(ChainNoise noise, Potential potential, HmcState state, Tensor stepSize) {
        Tensor z = state.position();
        int n = state.chains(), d = state.dim();
        Backend be = Backends.of("hmc", z, stepSize);
        Tensor p0 = noise.momenta(z.placement(), n, d);
        Tensor u = noise.uniforms(z.placement(), n);
        Tensor half = be.binary(MUL, stepSize, 0.5f);
        // a half step of momentum with the state's cached gradient, then L position steps, each
        // followed by a momentum step (a half one at the end)
        // (only the trajectory's end is evaluated in full: the steps between need the gradient alone)
        Tensor p = be.binary(ADD, p0, be.binary(MUL, half, potential.gradient(state)));
        Tensor position = z;
        for (int l = 1; l < leapfrogSteps; l++) {
            position = be.binary(ADD, position, be.binary(MUL, stepSize, p));
            p = be.binary(ADD, p, be.binary(MUL, stepSize, potential.gradientAt(position)));
        }
        HmcState proposal = potential.at(be.binary(ADD, position, be.binary(MUL, stepSize, p)));
        p = be.binary(ADD, p, be.binary(MUL, half, potential.gradient(proposal)));
        Tensor energyChange = be.binary(SUB, energy(be, potential.logDensity(proposal), p), energy(be, potential.logDensity(state), p0));
        // u < exp(-dH): false for a NaN energy and, in float, for any dH above ~104
        Tensor accepted = be.binary(LESS, u, be.unary(UnaryOp.EXP, be.unary(UnaryOp.NEG, energyChange)));
        Tensor divergent = be.binary(ADD, be.binary(MUL, be.binary(LESS, energyChange, DIVERGENCE), -1f), 1f);
        return new Step(proposal.where(accepted, state), new HmcInfo(accepted, divergent, energyChange));
    }

    /** {@code H = -log f + |p|^2 / 2} per chain. */
    private static Tensor energy(Backend be, Tensor logDensity, Tensor momentum) {
        Tensor kinetic = be.binary(MUL, be.reduce(ReduceOp.SUM, be.unary(UnaryOp.SQUARE, momentum), 1), 0.5f);
        return be.binary(SUB, kinetic, logDensity);
    }
}
