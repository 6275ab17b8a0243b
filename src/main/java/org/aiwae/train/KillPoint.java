package org.aiwae.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A test hook for kill tests across processes and cluster tasks: the first time a run reaches it, it
 * writes this process's {@code pid@host} to a marker file and waits there (at most
 * {@value #LIMIT_SECONDS} s) for the test to kill the process; once the marker exists it does nothing,
 * so the retried attempt runs through.
 */
public final class KillPoint {
    /** How long the first visitor waits to be killed before it carries on. */
    public static final int LIMIT_SECONDS = 300;

    private KillPoint() {}

    /** Waits to be killed unless {@code marker} exists, which it creates first with this process's pid@host. */
    public static void once(Path marker) {
        if (Files.exists(marker)) {
            return;
        }
        try {
            Files.writeString(marker, ProcessHandle.current().pid() + "@" + RunLock.host() + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Thread.sleep(LIMIT_SECONDS * 1000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
