package org.aiwae.objective;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.Posterior;

/** The VAE: maximise the ELBO (Eq. 2), averaged over K reparameterised samples per data point. */
public record Vae(int samples) implements Objective {

    public Vae {
        if (samples < 1) {
            throw new IllegalArgumentException("VAE needs K >= 1 samples, got " + samples);
        }
    }

    @Override
    public String name() {
        return "vae";
    }

    @Override
    public StepResult step(LatentVariableModel model, Tensor x, RandomStream rng) {
        Var lw = logWeights(model, x, samples, rng);
        Var loss = Ops.scaledSum(lw, null, -(1f / lw.value().size())); // -mean, the same bits
        loss.backward();
        return StepResult.of(loss.value());
    }

    /** {@code log p(x, z_k) - log q(z_k | x)} for K reparameterised samples: {@code [K, B]}. */
    static Var logWeights(LatentVariableModel model, Tensor x, int k, RandomStream rng) {
        Var xv = Var.constant(x);
        Posterior q = model.posterior(xv);
        Var z = q.sample(rng.normal(x.placement(), k, x.dim(0), model.latentDim())); // drawn where x lives
        return Ops.sub(model.logJoint(xv, z), q.logProb(z));
    }
}
