package org.aiwae.objective;

import java.util.Map;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.LatentVariableModel;

/**
 * A training objective: one call computes the gradients of one minibatch into the model's
 * parameters (the caller zeroes them before and applies its optimisers after).
 */
public sealed interface Objective extends AutoCloseable permits Vae, Iwae, Aiwae {

    /** Short name: vae, iwae or aiwae. */
    String name();

    /** Samples per data point, K. */
    int samples();

    /** Accumulates the gradients for the binary minibatch {@code x [B, D]}, drawing noise from {@code rng}. */
    StepResult step(LatentVariableModel model, Tensor x, RandomStream rng);

    /**
     * What the objective adapts across minibatches (AIWAE: its HMC step sizes), by name, as copies:
     * a checkpoint saves it beside the optimisers' moments. Empty for objectives without state.
     */
    default Map<String, Tensor> state() {
        return Map.of();
    }

    /**
     * Restores what {@link #state} returned; every name of {@link #state} must be present.
     *
     * @throws IllegalArgumentException naming the tensor that is missing or has the wrong size
     */
    default void loadState(Map<String, Tensor> state) {}

    /**
     * What a step measured.
     *
     * @param loss        the loss of the generative model's update (per data point)
     * @param encoderLoss the loss of the inference model's update (per data point)
     * @param acceptance  HMC acceptance per temperature (AIWAE), else empty
     */
    /** Releases what the objective holds on a device (AIWAE: its annealing kernels); the others hold nothing. */
    @Override
    default void close() {}

    record StepResult(double loss, double encoderLoss, double[] acceptance) {}
}
