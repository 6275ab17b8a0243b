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
     * sets. On a device backend the step's tensors are temporaries of one {@link Backend#reclaim} scope
     * (the next step reuses their memory), so the gradients are cleared again when it ends.
     */
    public Objective.StepResult run(Tensor x, RandomStream rng, double learningRate) {
        generative.zeroGrad();
        inference.zeroGrad();
        try (Backend.Reclaim temporaries = Backends.of(x).reclaim()) {
            Objective.StepResult r = objective.step(model, x, rng);
            if (Double.isFinite(r.loss()) && Double.isFinite(r.encoderLoss())) {
                generative.step((float) learningRate);
                inference.step((float) learningRate);
            }
            if (!x.onHost()) {
                generative.zeroGrad();
                inference.zeroGrad();
            }
            return r;
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
