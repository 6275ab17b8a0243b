package org.aiwae.train;

/**
 * A run folder whose newest checkpoint cannot be used as it is: {@code LATEST} missing although
 * epochs were published, {@code LATEST} corrupt or naming a missing folder, a file of the checkpoint
 * missing or different from the SHA-256 its {@code SHA256SUMS} records, or a corrupt
 * {@code SHA256SUMS}. Resuming from an older checkpoint (or from the start) is the user's decision,
 * never taken silently.
 */
public final class DamagedCheckpoint extends UnusableRun {
    DamagedCheckpoint(String message) {
        super(message);
    }
}
