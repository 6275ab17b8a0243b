package org.aiwae.objective;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.LatentVariableModel;

/** The IWAE: maximise {@code L_K = E[log (1/K) sum_k p(x, z_k) / q(z_k|x)]} (Eq. 3) for all parameters. */
public record Iwae(int samples) implements Objective {

    public Iwae {
        if (samples < 1) {
            throw new IllegalArgumentException("IWAE needs K >= 1 samples, got " + samples);
        }
    }

    @Override
    public String name() {
        return "iwae";
    }

    @Override
    public StepResult step(LatentVariableModel model, Tensor x, RandomStream rng) {
        Var lw = Vae.logWeights(model, x, samples, rng);
        Var bound = Ops.add(Ops.logsumexp(lw, 0), (float) -StrictMath.log(samples));
        Var loss = Ops.scaledSum(bound, null, -(1f / bound.value().size())); // -mean, the same bits
        loss.backward();
        return StepResult.of(loss.value());
    }
}
