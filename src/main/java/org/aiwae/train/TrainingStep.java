package org.aiwae.train;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.optim.Adam;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.objective.Aiwae;
import org.aiwae.objective.Iwae;
import org.aiwae.objective.Objective;
import org.aiwae.objective.Vae;
import org.aiwae.sampler.Schedule;

/**
 * One optimisation step of any model under any objective, as the paper trains: the objective
 * fills the gradients, then separate Adam optimisers (beta 0.9 / 0.999, eps 1e-4) update the
 * generative and the inference parameters.
 *
 * <pre>{@code
 * TrainingStep step = new TrainingStep(model, new Aiwae(5, 5, 5, Schedule.linear(), Backends.cpu()));
 * for (Tensor x : minibatches) step.run(x, rng, 1e-3);
 * }</pre>
 */
public final class TrainingStep implements AutoCloseable {
    private final LatentVariableModel model;
    private final Objective objective;
    private final Adam generative;
    private final Adam inference;
    /** On a device: the last step's losses and acceptance counts, outliving its reclaim scope. */
    private Tensor[] kept;

    public TrainingStep(LatentVariableModel model, Objective objective) {
        this(model, objective, Adam.paper(model.generativeParameters()), Adam.paper(model.inferenceParameters()));
    }

    public TrainingStep(LatentVariableModel model, Objective objective, Adam generative, Adam inference) {
        this.model = model;
        this.objective = objective;
        this.generative = generative;
        this.inference = inference;
    }

    /** The objective a configuration names. */
    public static Objective objective(TrainConfig config, Backend backend) {
        return switch (config.method()) {
            case VAE -> new Vae(config.samples());
            case IWAE -> new Iwae(config.samples());
            case AIWAE -> new Aiwae(config.samples(), config.temperatures(), config.leapfrog(), Schedule.linear(), backend,
                    config.encoderKl());
        };
    }

    /**
     * Zeroes the gradients, computes them on the minibatch {@code x [B, D]}, and updates both parameter
     * sets unless a loss is not finite (a step that diverged changes nothing). On a device the step's tensors
     * are temporaries of one {@link Backend#reclaim} scope (the next step reuses their memory), the finite test
     * runs there too, and nothing is read back: the result holds copies of the losses (and acceptance counts)
     * in device memory, valid until the next step.
     */
    public Objective.StepResult run(Tensor x, RandomStream rng, double learningRate) {
        generative.zeroGrad();
        inference.zeroGrad();
        Backend be = Backends.of(x);
        if (!x.onHost() && kept == null) {
            kept = new Tensor[] {x.placement().zeros(1), x.placement().zeros(1),
                    objective instanceof Aiwae a ? x.placement().zeros(a.temperatures() - 1) : null};
        }
        try (Backend.Reclaim temporaries = be.reclaim()) {
            Objective.StepResult r = objective.step(model, x, rng);
            generative.step((float) learningRate, r.decoderLoss(), r.encoderLossValue());
            inference.step((float) learningRate, r.decoderLoss(), r.encoderLossValue());
            if (x.onHost()) {
                return r;
            }
            generative.zeroGrad();
            inference.zeroGrad();
            kept[0].copyFrom(r.decoderLoss().reshape(1));
            kept[1].copyFrom(r.encoderLossValue().reshape(1));
            if (kept[2] != null) {
                kept[2].copyFrom(r.acceptedCounts());
            }
            return new Objective.StepResult(kept[0], kept[1], kept[2], r.chains());
        }
    }

    /** Closes the objective (what it holds on a device). */
    @Override
    public void close() {
        objective.close();
    }

    public LatentVariableModel model() {
        return model;
    }

    public Objective objective() {
        return objective;
    }

    public Adam generative() {
        return generative;
    }

    public Adam inference() {
        return inference;
    }
}
