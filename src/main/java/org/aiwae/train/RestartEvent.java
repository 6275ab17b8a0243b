package org.aiwae.train;

/**
 * A line of {@code metrics.jsonl} recording that epoch {@code epoch} diverged and is retrained,
 * as attempt {@code attempt}, from the checkpoint of epoch {@code restartedFrom} (0: the initial
 * weights) with fresh random streams. {@code event} is always {@code "restart"}.
 */
public record RestartEvent(String event, int epoch, int attempt, String reason, int restartedFrom) {
    public RestartEvent(int epoch, int attempt, String reason, int restartedFrom) {
        this("restart", epoch, attempt, reason, restartedFrom);
    }
}
