package org.aiwae.engine.fused;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.random.ChainNoise;

/**
 * Annealed importance sampling with HMC transitions, run entirely where a device backend keeps
 * its data: the path from a diagonal Gaussian {@code q(z|x)} to {@code p(x, z)} of a
 * {@link TanhMlpDecoder}, for N = K * B chains laid out {@code [K, B]} (chain n belongs to data
 * point {@code n mod B}). Positions, densities, gradients, momenta and the log weights (in double)
 * stay on the device; per temperature only the step sizes go up and the acceptance flags come back.
 *
 * <p>It draws its random numbers exactly as the host's HMC does, from the same Philox streams
 * ({@link ChainNoise.Shared} or one stream per data point, {@link ChainNoise.PerGroup}): N * Z
 * standard normals for the momenta, then N uniforms for the Metropolis tests, so the same seed
 * gives the same run as the CPU backend up to float32 rounding.
 */
public interface AnnealingKernel extends AutoCloseable {

    /** The most chains a {@link #start} may ask for. */
    int maxChains();

    /** Re-reads the decoder's weights (after an optimiser step). */
    void refresh();

    /**
     * Starts chains at {@code z0 [N, Z]} for data {@code x [B, D]} and q's {@code mu, logSigma [B, Z]};
     * evaluates both densities and their gradients there and sets every log weight to 0.
     */
    void start(Tensor x, Tensor mu, Tensor logSigma, Tensor z0);

    /**
     * Adds {@code (beta - betaPrev) (log p - log q)} at the current positions to each chain's log
     * weight, then makes one HMC transition at {@code beta} with {@code leapfrog} steps of the
     * per-chain sizes {@code eps}. Writes which chains accepted into {@code accepted}; returns the
     * number of divergent proposals (energy error above 1000 or NaN), which are rejected.
     */
    int step(double betaPrev, double beta, float[] eps, int leapfrog, ChainNoise noise, boolean[] accepted);

    /** Copies the positions into {@code z [N, Z]} and the log weights into {@code logWeights [N]}. */
    void read(Tensor z, double[] logWeights);

    @Override
    default void close() {}
}
