package org.aiwae.train;

import org.aiwae.AiwaeException;

/**
 * A run folder whose model cannot be read now; what continues the run depends on which: {@link NoCheckpointYet}
 * (resume it) or {@link DamagedCheckpoint} (resume it from the newest intact checkpoint).
 */
public abstract sealed class UnusableRun extends AiwaeException permits NoCheckpointYet, DamagedCheckpoint {
    UnusableRun(String message) {
        super(message);
    }
}
