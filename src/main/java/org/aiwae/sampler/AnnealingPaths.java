package org.aiwae.sampler;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.model.DiagonalGaussian;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.Posterior;

/** Picks the fastest correct path for a model: fused kernels when the backend can run its decoder, else autodiff. */
public final class AnnealingPaths {
    private AnnealingPaths() {}

    /**
     * The q-to-p path for {@code samples} chains per row of {@code x}. {@code kernel} may be null
     * (then a fused path is not used) or a kernel for the model's decoder with enough rows.
     */
    public static AnnealingPath of(LatentVariableModel model, Tensor x, Posterior q, int samples, DecoderKernel kernel) {
        if (kernel != null && q instanceof DiagonalGaussian g && model.fusedDecoder().isPresent()
                && kernel.maxRows() >= samples * x.dim(0)) {
            return new FusedMlpPath(kernel, x, g.mu().value(), g.logSigma().value(), samples);
        }
        return new ModelPath(model, x, q, samples);
    }

    /** A fused decoder kernel for the model on {@code backend}, or null when the model has no fused form. */
    public static DecoderKernel kernelFor(LatentVariableModel model, Backend backend, int maxRows) {
        return model.fusedDecoder().map(d -> backend.decoder(d, maxRows)).orElse(null);
    }
}
