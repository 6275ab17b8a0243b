package org.aiwae.sampler;

import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
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

    /**
     * The settings of a {@link #kernel}: {@code leapfrogSteps} steps of size {@code stepSize} per transition and the
     * diagonal of the inverse mass matrix ({@code null}: the identity), as BlackJAX's {@code hmc(logdensity_fn,
     * step_size, inverse_mass_matrix, num_integration_steps)}.
     */
    public record Options(double stepSize, float[] inverseMassDiagonal, int leapfrogSteps) {
        public Options {
            if (!(stepSize > 0) || Double.isInfinite(stepSize)) {
                throw new IllegalArgumentException("the step size must be positive and finite, got " + stepSize);
            }
            if (leapfrogSteps < 1) {
                throw new IllegalArgumentException("HMC needs at least one leapfrog step, got " + leapfrogSteps);
            }
            if (inverseMassDiagonal != null) {
                inverseMassDiagonal = inverseMassDiagonal.clone();
                for (float m : inverseMassDiagonal) {
                    if (!(m > 0) || Float.isInfinite(m)) {
                        throw new IllegalArgumentException("the inverse mass matrix's diagonal must be positive and finite, got " + m);
                    }
                }
            }
        }

        /** An identity mass matrix. */
        public Options(double stepSize, int leapfrogSteps) {
            this(stepSize, null, leapfrogSteps);
        }

        @Override
        public float[] inverseMassDiagonal() {
            return inverseMassDiagonal == null ? null : inverseMassDiagonal.clone();
        }

        /** The same with another step size. */
        public Options withStepSize(double size) {
            return new Options(size, inverseMassDiagonal, leapfrogSteps);
        }

        /** The same with another inverse mass matrix diagonal. */
        public Options withInverseMass(float[] diagonal) {
            return new Options(stepSize, diagonal, leapfrogSteps);
        }
    }

    /**
     * HMC on {@code target} shaped as a BlackJAX kernel: {@link HmcKernel#init} a state, then
     * {@link HmcKernel#step}{@code (key, state) -> (state, info)}.
     */
    public static HmcKernel kernel(LogDensity target, Options options) {
        return new HmcKernel(target, options);
    }

    /** Checks that {@code stepSize} is {@code [1, 1]} or {@code [N, 1]} for N chains, naming both shapes when it is not. */
    static void checkStepSize(Tensor stepSize, int chains) {
        int[] s = stepSize.shape();
        if (s.length != 2 || s[1] != 1 || (s[0] != 1 && s[0] != chains)) {
            throw new IllegalArgumentException("step size must be [1, 1] or [N, 1] = [" + chains + ", 1] for " + chains
                    + " chains, got " + Shapes.str(s));
        }
    }

    /** A transition's outcome. */
    public record Step(HmcState state, HmcInfo info) {}

    /** A transition before its Metropolis selection: the proposal, and the test's outcome per chain. */
    public record Proposal(HmcState proposal, HmcInfo info) {}

    /**
     * One transition of the chains in {@code state} (evaluated by {@code potential}, or by a potential
     * with the same terms) on {@code potential}. {@code stepSize} is {@code [N, 1]} (one per chain) or
     * {@code [1, 1]}, in the chains' memory.
     */
    public Step step(ChainNoise noise, Potential potential, HmcState state, Tensor stepSize) {
        Proposal p = propose(noise, potential, state, stepSize, null);
        return new Step(p.proposal().where(p.info().accepted(), state), p.info());
    }

    /**
     * The transition of {@link #step} up to its Metropolis test: the proposal and which chains accept it
     * ({@code step} selects between the two; a loop that keeps one set of buffers selects in place with
     * {@link HmcState#acceptInto}). Divergences are also added to {@code divergentInto} when it is not null.
     */
    public Proposal propose(ChainNoise noise, Potential potential, HmcState state, Tensor stepSize, Tensor divergentInto) {
        Tensor z = state.position();
        int n = state.chains(), d = state.dim();
        checkStepSize(stepSize, n);
        Backend be = Backends.of("hmc", z, stepSize);
        Tensor p0 = noise.momenta(z.placement(), n, d);
        Tensor u = noise.uniforms(z.placement(), n);
        // a half step of momentum with the state's cached gradient, then L position steps, each followed by
        // a momentum step (a half one at the end); only the trajectory's end is evaluated in full: the steps
        // between need the gradient alone
        Backend.Leapfrog s = be.kickDrift(p0, stepSize, 0.5f, potential.gradient(state), z);
        for (int l = 1; l < leapfrogSteps; l++) {
            s = be.kickDrift(s.momentum(), stepSize, 1f, potential.gradientAt(s.position()), s.position());
        }
        HmcState proposal = potential.at(s.position());
        Tensor p = be.kickDrift(s.momentum(), stepSize, 0.5f, potential.gradient(proposal), null).momentum();
        Backend.Metropolis m = be.metropolis(potential.logDensity(state), p0, potential.logDensity(proposal), p, u, DIVERGENCE,
                divergentInto);
        return new Proposal(proposal, new HmcInfo(m.accepted(), m.divergent(), m.energyChange()));
    }
}
