package org.aiwae.model;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.fused.TanhMlpDecoder;

/**
 * A deep latent-variable model {@code p(x, z) = p(z) p(x|z)} with an amortised inference model
 * {@code q(z|x)}: what the VAE, IWAE and AIWAE objectives, HMC, AIS and the evaluation metrics
 * work against. Implement {@link #logJoint} and {@link #posterior} with engine ops and autodiff
 * gives every gradient; a model that can also describe its decoder as a {@link TanhMlpDecoder}
 * gets the backends' fused kernels for the sampling loops.
 */
public interface LatentVariableModel {

    int latentDim();

    int dataDim();

    /** The generative parameters theta (the decoder and any prior parameters). */
    List<Var> generativeParameters();

    /** The inference parameters phi (the encoder). */
    List<Var> inferenceParameters();

    /**
     * {@code log p(x, z)} for data {@code x} of shape {@code [B, D]} and latents {@code z} of
     * shape {@code [..., B, Z]} (leading dimensions are samples), giving {@code [..., B]}.
     */
    Var logJoint(Var x, Var z);

    /** {@code q(z|x)} for a batch {@code x} of shape {@code [B, D]}. */
    Posterior posterior(Var x);

    /**
     * {@code log p(x | z) - KL(q(z|x) || p(z))} for samples {@code z [..., B, Z]} of {@code q}: an
     * ELBO estimate with the KL term in closed form, {@code [..., B]}. Empty (the default) when the
     * model has no closed form for its prior and this posterior; the Monte Carlo estimate
     * {@code log p(x, z) - log q(z|x)} is then the only one.
     */
    default Optional<Var> elboWithClosedFormKl(Var x, Posterior q, Var z) {
        return Optional.empty();
    }

    /** Every parameter by a stable name, for checkpoints. */
    Map<String, Var> namedParameters();

    /**
     * This model with its parameters in {@code where}'s memory. The default serves a model whose
     * parameters are there already (itself) and refuses otherwise: a model that can move overrides it.
     */
    default LatentVariableModel to(Placement where) {
        for (Map.Entry<String, Var> p : namedParameters().entrySet()) {
            Tensor t = p.getValue().value();
            if (where.isHost() ? !t.onHost() : t.placement() != where) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter " + p.getKey() + " lives on "
                        + t.placement().name() + ", not on " + where.name() + ", and the model does not implement to()");
            }
        }
        return this;
    }

    /** The decoder in the form the backends run fused, when the model has one. */
    default Optional<TanhMlpDecoder> fusedDecoder() {
        return Optional.empty();
    }
}
