package org.aiwae.engine.fused;

import org.aiwae.engine.Tensor;

/**
 * A prepared, fused evaluation of {@code log p(x, z) = log N(z; 0, I) + log Bernoulli(x | decoder(z))}
 * and its gradient in z, for many rows at once. Buffers are allocated once, for
 * {@link #maxRows()} rows, and reused by every call.
 */
public interface DecoderKernel extends AutoCloseable {

    TanhMlpDecoder decoder();

    int maxRows();

    /** Re-reads the decoder's weights; call after they changed (an optimiser step). */
    void refresh();

    /**
     * For {@code z} of shape {@code [N, Z]} and {@code x} of shape {@code [B, D]} with N a
     * multiple of B (row n is paired with row {@code n mod B} of x, as in a {@code [K, B, Z]}
     * batch), writes {@code logp[n] = log p(x, z_n)} unless {@code logp} is null and
     * {@code gradZ[n] = d logp[n] / d z_n} unless {@code gradZ} is null (one of them must be given).
     * Where only the gradient is asked for (a leapfrog step between its ends), a kernel may skip the
     * log-likelihood's own terms; the gradient is the same bits either way.
     */
    void logJoint(Tensor z, Tensor x, Tensor logp, Tensor gradZ);

    /** Releases device resources; the CPU kernel holds none. */
    @Override
    default void close() {}

    /** Validates the shapes of a {@link #logJoint} call; shared by every backend. */
    static int checkRows(DecoderKernel k, Tensor z, Tensor x, Tensor logp, Tensor gradZ) {
        int latent = k.decoder().latent();
        int data = k.decoder().data();
        if (z.rank() != 2 || z.dim(1) != latent || x.rank() != 2 || x.dim(1) != data) {
            throw new IllegalArgumentException("decoder logJoint: z " + java.util.Arrays.toString(z.shape()) + " and x "
                    + java.util.Arrays.toString(x.shape()) + " do not fit a decoder " + latent + " -> " + data);
        }
        int n = z.dim(0);
        if (n > k.maxRows() || x.dim(0) == 0 || n % x.dim(0) != 0 || (logp == null && gradZ == null)
                || (logp != null && logp.size() != n) || (gradZ != null && gradZ.size() != z.size())) {
            throw new IllegalArgumentException("decoder logJoint: " + n + " rows of z (kernel holds " + k.maxRows()
                    + "), " + x.dim(0) + " rows of x, logp of size " + (logp == null ? "none" : logp.size())
                    + ", gradient of size " + (gradZ == null ? "none" : gradZ.size()));
        }
        return n;
    }
}
