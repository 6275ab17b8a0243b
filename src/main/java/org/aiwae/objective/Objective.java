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
     * The temperature steps of the objective's annealing, each an HMC transition whose accepting chains a step
     * counts ({@link StepResult#acceptedCounts} has this many); 0 for objectives without HMC.
     */
    default int temperatureSteps() {
        return 0;
    }

    /** The HMC step size of each temperature step as adapted so far (a copy, for reports); empty without HMC. */
    default float[] stepSizes() {
        return new float[0];
    }

    /** Releases what the objective holds on a device (AIWAE: its annealing kernels); the others hold nothing. */
    @Override
    default void close() {}

    /**
     * What a step measured, as one-element tensors in the minibatch's memory, so that nothing is read back during
     * a step: a training loop on a device sums them there and reads when it reports. They are temporaries of the
     * step's {@code reclaim} scope on a device: read or sum them before it closes.
     *
     * @param decoderLoss    the loss of the generative model's update (per data point)
     * @param encoderLossValue the loss of the inference model's update (per data point)
     * @param acceptedCounts AIWAE: the number of accepting HMC chains per temperature step ({@code [T - 1]}), else null
     * @param chains         the number of chains those counts are out of (K x B), else 0
     */
    record StepResult(Tensor decoderLoss, Tensor encoderLossValue, Tensor acceptedCounts, int chains) {
        /** A step without HMC whose two updates share one loss. */
        public static StepResult of(Tensor loss) {
            return new StepResult(loss, loss, null, 0);
        }

        /** The generative model's loss (a host read on a device). */
        public double loss() {
            return decoderLoss.item();
        }

        /** The inference model's loss (a host read on a device). */
        public double encoderLoss() {
            return encoderLossValue.item();
        }

        /** The fraction of chains that accepted per temperature step, empty without HMC (a host read on a device). */
        public double[] acceptance() {
            if (acceptedCounts == null) {
                return new double[0];
            }
            float[] c = acceptedCounts.toArray();
            double[] a = new double[c.length];
            for (int t = 0; t < c.length; t++) {
                a[t] = c[t] / (double) chains;
            }
            return a;
        }
    }
}
