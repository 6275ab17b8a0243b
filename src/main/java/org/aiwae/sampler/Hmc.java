package org.aiwae.sampler;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;

/**
 * Hamiltonian Monte Carlo as a small kernel: given a path, a state and an inverse temperature,
 * one transition (fresh momenta, L leapfrog steps, a Metropolis test per chain) moves the state
 * and reports an {@link HmcInfo}. The potential is {@code U = -log f_beta}.
 *
 * <p>The kernel owns its proposal buffers, allocated once for a number of chains and reused by
 * every step; the state passed in is updated in place and returned.
 */
public final class Hmc {
    private static final double DIVERGENCE = 1000;

    private final int leapfrogSteps;
    private final PathState proposal;
    private final Tensor momentum;
    private final Tensor momentum0;
    private final Tensor uniforms;

    public Hmc(int chains, int dim, int leapfrogSteps) {
        if (leapfrogSteps < 1) {
            throw new IllegalArgumentException("HMC needs at least one leapfrog step, got " + leapfrogSteps);
        }
        this.leapfrogSteps = leapfrogSteps;
        this.proposal = PathState.zeros(chains, dim);
        this.momentum = Tensor.zeros(chains, dim);
        this.momentum0 = Tensor.zeros(chains, dim);
        this.uniforms = Tensor.zeros(chains);
    }

    public int leapfrogSteps() {
        return leapfrogSteps;
    }

    /**
     * One transition at inverse temperature {@code beta} with per-chain step sizes {@code eps}.
     * Draws N*dim normals then N uniforms from {@code rng}.
     */
    public HmcInfo step(AnnealingPath path, PathState state, double beta, float[] eps, RandomStream rng) {
        return step(path, state, beta, eps, new ChainNoise.Shared(rng));
    }

    /** One transition drawing its momenta and uniforms from {@code noise}. */
    public HmcInfo step(AnnealingPath path, PathState state, double beta, float[] eps, ChainNoise noise) {
        int n = state.chains(), d = state.dim();
        float b1 = (float) beta, b0 = 1 - b1;
        noise.momenta(momentum0.data(), n, d);
        noise.uniforms(uniforms.data(), n);
        float[] p = momentum.data(), p0 = momentum0.data();
        float[] q = proposal.position().data();
        System.arraycopy(state.position().data(), state.position().offset(), q, 0, n * d);
        System.arraycopy(p0, 0, p, 0, n * d);
        // half step of momentum with the state's cached gradient, then L full position steps
        kick(p, state, b0, b1, eps, 0.5f, n, d);
        for (int l = 1; l <= leapfrogSteps; l++) {
            for (int i = 0; i < n; i++) {
                float e = eps[i];
                for (int j = i * d, end = j + d; j < end; j++) {
                    q[j] += e * p[j];
                }
            }
            path.evaluate(proposal.position(), proposal.log0(), proposal.grad0(), proposal.log1(), proposal.grad1());
            kick(p, proposal, b0, b1, eps, l < leapfrogSteps ? 1f : 0.5f, n, d);
        }
        boolean[] accepted = new boolean[n];
        int count = 0, divergent = 0;
        for (int i = 0; i < n; i++) {
            double k0 = 0, k1 = 0;
            for (int j = i * d, end = j + d; j < end; j++) {
                k0 += (double) p0[j] * p0[j];
                k1 += (double) p[j] * p[j];
            }
            double h0 = -state.logDensity(i, beta) + 0.5 * k0;
            double h1 = -proposal.logDensity(i, beta) + 0.5 * k1;
            double dh = h1 - h0;
            if (!(dh < DIVERGENCE)) { // also catches NaN
                divergent++;
            } else if (uniforms.data()[i] < StrictMath.exp(-dh)) {
                accepted[i] = true;
                count++;
                state.copyChain(proposal, i);
            }
        }
        return new HmcInfo(accepted, (double) count / n, divergent);
    }

    /** {@code p += scale * eps * grad log f_beta} at the given state. */
    private static void kick(float[] p, PathState s, float b0, float b1, float[] eps, float scale, int n, int d) {
        float[] g0 = s.grad0().data(), g1 = s.grad1().data();
        int o0 = s.grad0().offset(), o1 = s.grad1().offset();
        for (int i = 0; i < n; i++) {
            float e = scale * eps[i];
            for (int j = i * d, end = j + d; j < end; j++) {
                p[j] += e * (b0 * g0[o0 + j] + b1 * g1[o1 + j]);
            }
        }
    }
}
