package org.aiwae.train;

import java.nio.file.Path;

/** A run folder whose first epoch has not finished: there is no model to read yet (resuming the run continues it). */
public final class NoCheckpointYet extends UnusableRun {
    NoCheckpointYet(Path dir) {
        super(dir + " has no checkpoint yet (no epoch finished)");
    }
}
