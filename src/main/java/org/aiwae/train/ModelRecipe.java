package org.aiwae.train;

import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.MlpVae;

/**
 * The model a run's configuration describes, over images of {@code pixels} values, with its initial weights:
 * what a run trains and what reading its checkpoint fills in ({@link CheckpointReader#readModel(java.nio.file.Path,
 * ModelRecipe)}).
 */
@FunctionalInterface
public interface ModelRecipe<M extends LatentVariableModel> {

    /** The paper's model: {@link MlpVae} with the configuration's hidden and latent sizes, initialised from the run's seed. */
    ModelRecipe<MlpVae> PAPER = (config, pixels) -> MlpVae.create(pixels, config.hidden(), config.latent(),
            TrainingStreams.of(config.seed(), TrainingStreams.INIT, 0, 0));

    M create(TrainConfig config, int pixels);
}
