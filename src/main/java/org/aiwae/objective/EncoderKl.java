package org.aiwae.objective;

import com.fasterxml.jackson.annotation.JsonCreator;
import org.aiwae.Keyed;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.Posterior;

/**
 * How AIWAE's inference network estimates the ELBO it ascends. {@code SAMPLE}: the Monte Carlo
 * estimate {@code log p(x, z) - log q(z|x)} at reparameterised samples; {@code ANALYTIC}: the
 * authors' choice, {@code log p(x|z) - KL(q(z|x) || p(z))} with the KL term in closed form, which
 * has the same expectation and a lower variance (the model must offer
 * {@link LatentVariableModel#elboWithClosedFormKl}). Written and read as lower case.
 */
public enum EncoderKl implements Keyed {
    ANALYTIC, SAMPLE;

    @Override
    public String toString() {
        return key();
    }

    /** Parses a key; throws IllegalArgumentException naming the choices. */
    @JsonCreator
    public static EncoderKl parse(String key) {
        return Keyed.parse(EncoderKl.class, "encoder KL", key);
    }

    /**
     * Single-sample ELBO estimates for the samples {@code z [..., B, Z]} of {@code q = q(z|x)}:
     * {@code [..., B]}, differentiable in the inference parameters through {@code z} and {@code q}.
     */
    public Var elbo(LatentVariableModel model, Var x, Posterior q, Var z) {
        return switch (this) {
            case SAMPLE -> Ops.sub(model.logJoint(x, z), q.logProb(z));
            case ANALYTIC -> model.elboWithClosedFormKl(x, q, z).orElseThrow(() -> new IllegalArgumentException(
                    "the model has no closed-form KL(q(z|x) || p(z)); use the encoder KL 'sample'"));
        };
    }
}
