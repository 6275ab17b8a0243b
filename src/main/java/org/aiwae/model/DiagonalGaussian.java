package org.aiwae.model;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;

/**
 * {@code q(z|x) = N(mu, diag(exp(logSigma)^2))}, the inference family of the paper.
 *
 * @param mu       means, {@code [B, Z]}
 * @param logSigma log standard deviations, {@code [B, Z]}
 */
public record DiagonalGaussian(Var mu, Var logSigma) implements Posterior {

    @Override
    public int batch() {
        return mu.value().dim(0);
    }

    @Override
    public int latentDim() {
        return mu.value().dim(1);
    }

    @Override
    public Var sample(Tensor noise) {
        return Ops.reparameterize(mu, logSigma, noise);
    }

    @Override
    public Var logProb(Var z) {
        return Ops.gaussianLogProb(z, mu, logSigma);
    }
}
