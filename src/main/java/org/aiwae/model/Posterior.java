package org.aiwae.model;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Var;

/** The inference model's distribution q(z|x) for a batch of B data points. */
public interface Posterior {

    int batch();

    int latentDim();

    /**
     * Reparameterised samples {@code z = g(noise)} of shape {@code [K, B, Z]} from standard normal
     * noise of the same shape; gradients flow to the inference parameters.
     */
    Var sample(Tensor noise);

    /** {@code log q(z|x)} summed over latent dimensions: {@code [..., B, Z] -> [..., B]}. */
    Var logProb(Var z);
}
