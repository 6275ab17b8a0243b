package org.aiwae.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import org.aiwae.Keyed;

/**
 * How the learning rate falls over a run: {@code paper} is Appendix A's 3,280 epochs exactly, or a
 * fraction of each of its stages (a budget, see {@link LearningRates}); {@code short} compresses the same decay into the run's {@code epochs} (see {@link LearningRates}).
 */
public enum TrainSchedule implements Keyed {
    PAPER, SHORT;

    /** The paper's number of epochs, {@code sum_{i=0}^{7} 3^i}. */
    public static final int PAPER_EPOCHS = 3280;

    @Override
    public String toString() {
        return key();
    }

    /** Parses a key; throws IllegalArgumentException naming the choices. */
    @JsonCreator
    public static TrainSchedule parse(String key) {
        return Keyed.parse(TrainSchedule.class, "schedule", key);
    }

    /** Learning rate for 0-based epoch {@code e} of a run of {@code epochs} epochs at {@code budget} (paper only). */
    public double learningRate(int e, int epochs, double budget) {
        return switch (this) {
            case PAPER -> LearningRates.paper(e, budget);
            case SHORT -> LearningRates.shortened(e, epochs);
        };
    }
}
