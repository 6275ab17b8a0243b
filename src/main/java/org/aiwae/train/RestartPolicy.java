package org.aiwae.train;

import org.aiwae.AiwaeException;

/**
 * What a run does when an epoch diverges (a minibatch loss that is not finite, NaN or infinity in the state after
 * the epoch, a held-out bound that is not finite): the epoch is retrained from the last good checkpoint with fresh
 * random streams (attempt A draws its own Philox streams), at most {@value #MAX_RESTARTS} times, each restart a
 * {@link RestartEvent} line of {@code metrics.jsonl}; then the run stops with one line, the last good checkpoint intact.
 */
final class RestartPolicy {
    /** How often one epoch is retrained after a divergence before the run gives up. */
    static final int MAX_RESTARTS = 3;

    private RestartPolicy() {}

    /**
     * The restart after attempt {@code attempt} (0-based) of epoch {@code epoch} (0-based: the epochs finished before
     * it) diverged for {@code reason}; an {@link AiwaeException} when no restart is left.
     */
    static RestartEvent after(int epoch, int attempt, String reason) {
        if (attempt == MAX_RESTARTS) {
            throw new AiwaeException("training diverged at epoch " + (epoch + 1) + " " + (MAX_RESTARTS + 1) + " times ("
                    + reason + "), restarting from " + from(epoch) + " with fresh random streams each time; "
                    + (epoch == 0 ? "nothing was saved" : "the checkpoint of epoch " + epoch + " is intact")
                    + "; try a smaller learning rate schedule or another seed");
        }
        return new RestartEvent(epoch + 1, attempt + 2, reason, epoch);
    }

    /** The line that says so on the run's log. */
    static String describe(RestartEvent r) {
        return "aiwae: epoch " + r.epoch() + " diverged (" + r.reason() + "); retraining it from " + from(r.restartedFrom())
                + " with fresh random streams (restart " + (r.attempt() - 1) + " of " + MAX_RESTARTS + ")";
    }

    private static String from(int epoch) {
        return epoch == 0 ? "the initial weights" : "the checkpoint of epoch " + epoch;
    }
}
