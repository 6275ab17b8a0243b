package org.aiwae.train;

/**
 * Test hooks of a training run, package-private: crash tests stop the process at a named point,
 * divergence tests poison the state after a minibatch. Production runs use {@link #NONE}.
 */
interface TrainHooks {
    TrainHooks NONE = new TrainHooks() {};

    /**
     * Called at each named point: {@code "locked"} once the run holds its folder, and
     * {@code "E/STEP"} while the checkpoint of epoch E is published (STEP as in
     * {@link CheckpointWriter#publish}, e.g. {@code "3/unit-state:partial"}, {@code "3/pointer:renamed"}).
     */
    default void probe(String point) {}

    /** Called after the update of minibatch {@code batch} (0-based, of {@code batches}) of 0-based epoch {@code epoch}. */
    default void afterStep(Trainer trainer, int epoch, int attempt, int batch, int batches) {}
}
