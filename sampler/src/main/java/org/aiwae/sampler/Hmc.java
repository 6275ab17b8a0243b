package org.aiwae.sampler;

import org.aiwae.engine.Placement;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.Key;

/**
 * Hamiltonian Monte Carlo with an identity mass matrix, written once over the engine's primitives
 * so that it runs wherever the chains' tensors live (host or device), shaped like a sampler
 * library's kernel: {@code step(noise, target, state, stepSize) -> (state, info)}. One transition
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
     * The settings of a {@link #kernel}, as BlackJAX's {@code hmc(logdensity_fn, step_size, inverse_mass_matrix,
     * num_integration_steps)}: {@code leapfrogSteps} steps per transition of size {@code stepSizes} (one value shared
     * by every chain, or one per chain) with the diagonal of the inverse mass matrix {@code inverseMass} ({@code null}:
     * the identity; else one diagonal shared by every chain, or one per chain). What a window adaptation returns has
     * one of each per chain, as Stan adapts each chain on its own. With {@code jitter} j > 0 each transition
     * multiplies each chain's step size by a uniform factor in [1 - j, 1 + j] (Neal 2011, section 5.4.2.2): a
     * fixed trajectory length can come back near its start on a Gaussian-like target and stall a coordinate.
     */
    public record Options(float[] stepSizes, float[][] inverseMass, int leapfrogSteps, double jitter) {
        public Options {
            if (!(jitter >= 0 && jitter < 1)) {
                throw new IllegalArgumentException("step-size jitter must be in [0, 1), got " + jitter);
            }
            if (leapfrogSteps < 1) {
                throw new IllegalArgumentException("HMC needs at least one leapfrog step, got " + leapfrogSteps);
            }
            if (stepSizes == null || stepSizes.length == 0) {
                throw new IllegalArgumentException("HMC needs a step size");
            }
            stepSizes = stepSizes.clone();
            for (float e : stepSizes) {
                if (!(e > 0) || Float.isInfinite(e)) {
                    throw new IllegalArgumentException("a step size must be positive and finite, got " + e);
                }
            }
            if (inverseMass != null) {
                if (inverseMass.length == 0) {
                    throw new IllegalArgumentException("an inverse mass matrix needs a diagonal");
                }
                float[][] copy = new float[inverseMass.length][];
                for (int c = 0; c < copy.length; c++) {
                    copy[c] = inverseMass[c].clone();
                    if (copy[c].length != inverseMass[0].length) {
                        throw new IllegalArgumentException("the chains' inverse mass diagonals differ in length: " + copy[0].length + " and "
                                + copy[c].length);
                    }
                    for (float m : copy[c]) {
                        if (!(m > 0) || Float.isInfinite(m)) {
                            throw new IllegalArgumentException("the inverse mass matrix's diagonal must be positive and finite, got " + m);
                        }
                    }
                }
                inverseMass = copy;
            }
        }

        /** One step size and an identity mass matrix for every chain. */
        public Options(double stepSize, int leapfrogSteps) {
            this(new float[] {(float) stepSize}, null, leapfrogSteps, 0);
        }

        /** One step size and one inverse mass diagonal for every chain. */
        public Options(double stepSize, float[] inverseMassDiagonal, int leapfrogSteps) {
            this(new float[] {(float) stepSize}, inverseMassDiagonal == null ? null : new float[][] {inverseMassDiagonal}, leapfrogSteps, 0);
        }

        @Override
        public float[] stepSizes() {
            return stepSizes.clone();
        }

        @Override
        public float[][] inverseMass() {
            if (inverseMass == null) {
                return null;
            }
            float[][] copy = new float[inverseMass.length][];
            for (int c = 0; c < copy.length; c++) {
                copy[c] = inverseMass[c].clone();
            }
            return copy;
        }

        /** The same with other step sizes (one, or one per chain). */
        public Options withStepSizes(float[] sizes) {
            return new Options(sizes, inverseMass, leapfrogSteps, jitter);
        }

        /** The same with other inverse mass diagonals (one, or one per chain). */
        public Options withInverseMass(float[][] diagonals) {
            return new Options(stepSizes, diagonals, leapfrogSteps, jitter);
        }

        /** The same with another number of leapfrog steps. */
        public Options withLeapfrogSteps(int steps) {
            return new Options(stepSizes, inverseMass, steps, jitter);
        }

        /** The same with another step-size jitter. */
        public Options withJitter(double j) {
            return new Options(stepSizes, inverseMass, leapfrogSteps, j);
        }

        /**
         * The step sizes as {@link #step} takes them for {@code chains} chains, {@code [1, 1]} or {@code [N, 1]}; with
         * jitter, {@code [N, 1]} with each chain's factor from {@code key}'s uniforms.
         */
        Tensor stepSizeTensor(int chains, Key key) {
            if (stepSizes.length != 1 && stepSizes.length != chains) {
                throw new IllegalArgumentException("step sizes: 1 or one per chain (" + chains + ") values, got " + stepSizes.length);
            }
            if (jitter == 0) {
                return Tensor.of(stepSizes.clone(), stepSizes.length, 1);
            }
            float[] u = key.uniform(Placement.HOST, chains).toArray(), e = new float[chains];
            for (int c = 0; c < chains; c++) {
                e[c] = (float) (stepSizes[stepSizes.length == 1 ? 0 : c] * (1 + jitter * (2 * u[c] - 1)));
            }
            return Tensor.of(e, chains, 1);
        }

        /**
         * The square roots of the inverse mass diagonals, {@code [1, D]} or {@code [N, D]}, for {@code chains} chains of
         * dimension {@code dim}; null for the identity.
         */
        Tensor scales(int chains, int dim) {
            if (inverseMass == null) {
                return null;
            }
            if ((inverseMass.length != 1 && inverseMass.length != chains) || inverseMass[0].length != dim) {
                throw new IllegalArgumentException("inverse mass matrix: [1, D] or [N, D] = [" + chains + ", " + dim + "] values, got ["
                        + inverseMass.length + ", " + inverseMass[0].length + "]");
            }
            float[] s = new float[inverseMass.length * dim];
            for (int c = 0; c < inverseMass.length; c++) {
                for (int j = 0; j < dim; j++) {
                    s[c * dim + j] = (float) Math.sqrt(inverseMass[c][j]);
                }
            }
            return Tensor.of(s, inverseMass.length, dim);
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
     * One transition of the chains in {@code state} (evaluated by {@code target}, or by a target
     * with the same terms) on {@code target}. {@code stepSize} is {@code [N, 1]} (one per chain) or
     * {@code [1, 1]}, in the chains' memory.
     */
    public Step step(ChainNoise noise, Target target, HmcState state, Tensor stepSize) {
        Proposal p = propose(noise, target, state, stepSize, null);
        return new Step(p.proposal().where(p.info().accepted(), state), p.info());
    }

    /**
     * The transition of {@link #step} up to its Metropolis test: the proposal and which chains accept it
     * ({@code step} selects between the two; a loop that keeps one set of buffers selects in place with
     * {@link HmcState#acceptInto}). Divergences are also added to {@code divergentInto} when it is not null.
     */
    public Proposal propose(ChainNoise noise, Target target, HmcState state, Tensor stepSize, Tensor divergentInto) {
        Tensor z = state.position();
        int n = state.chains(), d = state.dim();
        checkStepSize(stepSize, n);
        Backends.of("hmc", z, stepSize);
        Backend.Draws draws = noise.transition(z.placement(), n, d);
        Tensor p0 = draws.normals(), u = draws.uniforms();
        // a half step of momentum with the state's cached gradient, then L position steps, each followed by
        // a momentum step (a half one at the end); only the trajectory's end is evaluated in full: the steps
        // between need the gradient alone
        Backend.Leapfrog s = target.kick(p0, stepSize, 0.5f, state, z);
        for (int l = 1; l < leapfrogSteps; l++) {
            s = target.kickAt(s.momentum(), stepSize, 1f, s.position());
        }
        HmcState proposal = target.at(s.position());
        Tensor p = target.kick(s.momentum(), stepSize, 0.5f, proposal, null).momentum();
        Backend.Metropolis m = target.metropolis(state, p0, proposal, p, u, DIVERGENCE, divergentInto);
        return new Proposal(proposal, new HmcInfo(m.accepted(), m.divergent(), m.energyChange()));
    }
}
