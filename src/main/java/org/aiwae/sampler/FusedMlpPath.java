package org.aiwae.sampler;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.fused.DecoderKernel;

/**
 * The path from a diagonal Gaussian {@code q(z|x)} to {@code p(x, z)} of a tanh-MLP Bernoulli
 * decoder, on the backend's fused decoder kernel: {@code log q} and its gradient in closed form,
 * {@code log p} and its gradient in one kernel call. K chains per data point, laid out {@code [K, B]}.
 */
public final class FusedMlpPath extends QToPPath {
    private static final double HALF_LOG_2PI = 0.5 * StrictMath.log(2 * StrictMath.PI);

    private final DecoderKernel kernel;
    private final Tensor x;
    private final float[] mu;
    private final float[] invSigma;
    private final double[] logNorm;

    /**
     * @param kernel   a decoder kernel with room for {@code samples * B} rows
     * @param x        data {@code [B, D]}
     * @param mu       q's means {@code [B, Z]}
     * @param logSigma q's log standard deviations {@code [B, Z]}
     */
    public FusedMlpPath(DecoderKernel kernel, Tensor x, Tensor mu, Tensor logSigma, int samples) {
        super(samples, x.dim(0), mu.dim(1));
        this.kernel = kernel;
        this.x = x;
        this.mu = mu.toArray();
        this.invSigma = new float[this.mu.length];
        this.logNorm = new double[batch];
        float[] ls = logSigma.toArray();
        for (int b = 0; b < batch; b++) {
            double s = 0;
            for (int j = 0; j < latent; j++) {
                invSigma[b * latent + j] = (float) StrictMath.exp(-ls[b * latent + j]);
                s += ls[b * latent + j];
            }
            logNorm[b] = -s - latent * HALF_LOG_2PI;
        }
    }

    @Override
    public void evaluate(Tensor z, Tensor log0, Tensor grad0, Tensor log1, Tensor grad1) {
        kernel.logJoint(z, x, log1, grad1);
        float[] zd = z.data(), g = grad0.data(), l = log0.data();
        int zo = z.offset(), go = grad0.offset(), lo = log0.offset();
        for (int n = 0, rows = chains(); n < rows; n++) {
            int b = n % batch;
            double s = 0;
            for (int j = 0; j < latent; j++) {
                float is = invSigma[b * latent + j];
                float u = (zd[zo + n * latent + j] - mu[b * latent + j]) * is;
                s += (double) u * u;
                g[go + n * latent + j] = -u * is;
            }
            l[lo + n] = (float) (logNorm[b] - 0.5 * s);
        }
    }
}
