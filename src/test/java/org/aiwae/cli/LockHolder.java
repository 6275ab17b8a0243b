package org.aiwae.cli;

import java.nio.file.Path;
import org.aiwae.train.RunLock;

/**
 * A process that holds a folder's lock, as a training or evaluation running there does:
 * {@code LockHolder DIR} takes {@link RunLock} on DIR, prints {@code locked} and sleeps until it is killed.
 */
final class LockHolder {
    private LockHolder() {}

    public static void main(String[] args) throws Exception {
        try (RunLock ignored = RunLock.acquire(Path.of(args[0]))) {
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
