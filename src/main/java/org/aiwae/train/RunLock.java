package org.aiwae.train;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.aiwae.AiwaeException;

/**
 * The one writer of a run folder: an operating-system lock ({@link FileChannel#tryLock}) on the
 * folder's {@code lock} file, which holds the writer's {@code pid@host} while it runs and is
 * emptied when it ends. The kernel drops the lock of a process that dies, so a killed run's
 * stale lock is taken over by the next writer; a live holder makes {@link #acquire} fail with one
 * line naming it. Where a file system cannot lock, the recorded pid decides: a live process on
 * this host keeps the folder.
 */
public final class RunLock implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final FileLock lock; // null on a file system without locks

    private RunLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock of run folder {@code dir} or fails with an {@link AiwaeException} naming the holder. */
    public static RunLock acquire(Path dir) {
        return acquire(dir, "run folder");
    }

    /**
     * Takes the lock of folder {@code dir}, which the refusal calls {@code what} ("run folder"); every
     * process that writes into a run or results folder takes this one lock there.
     */
    public static RunLock acquire(Path dir, String what) {
        Path file = dir.resolve(RunFolder.LOCK);
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new AiwaeException("cannot create the lock file " + file + ": " + e.getMessage());
        }
        try {
            FileLock lock = null;
            boolean refused;
            try {
                lock = ch.tryLock();
                refused = lock == null;
            } catch (OverlappingFileLockException e) {
                refused = true; // this JVM already holds it
            } catch (IOException e) {
                refused = holderAlive(readHolder(ch)); // a file system without locks: trust the recorded pid
            }
            if (refused) {
                String holder = readHolder(ch);
                throw new AiwaeException(what + " " + dir + " is in use by "
                        + (holder.isEmpty() ? "another process" : "process " + holder) + " (lock " + file
                        + "); wait for it to finish or stop it first");
            }
            byte[] me = (ProcessHandle.current().pid() + "@" + host() + "\n").getBytes(StandardCharsets.UTF_8);
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(me), 0);
            ch.force(true);
            return new RunLock(file, ch, lock);
        } catch (IOException | RuntimeException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // the lock was not taken; nothing to release
            }
            if (e instanceof AiwaeException a) {
                throw a;
            }
            throw new AiwaeException("cannot lock " + file + ": " + e.getMessage());
        }
    }

    /** Empties the lock file and releases the lock. */
    @Override
    public void close() {
        try {
            channel.truncate(0);
            channel.force(true);
        } catch (IOException ignored) {
            // a stale pid in the file is harmless: the lock itself is what counts
        }
        try {
            if (lock != null) {
                lock.release();
            }
            channel.close();
        } catch (IOException ignored) {
            // closing the channel releases the lock in any case
        }
    }

    public Path file() {
        return file;
    }

    /**
     * Who holds the lock of run folder {@code dir} now ({@code pid@host}, or "another process" when the file
     * does not say), or null when nobody does. Writes nothing: where the file system locks, it takes the lock
     * shared for an instant to find out; elsewhere the recorded pid decides, as in {@link #acquire}.
     */
    public static String holder(Path dir) {
        Path file = dir.resolve(RunFolder.LOCK);
        if (!java.nio.file.Files.isRegularFile(file)) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            String who = readHolder(ch);
            FileLock probe;
            try {
                probe = ch.tryLock(0, Long.MAX_VALUE, true);
            } catch (OverlappingFileLockException e) {
                probe = null; // this JVM holds it
            } catch (IOException e) {
                return holderAlive(who) ? who : null;
            }
            if (probe != null) {
                probe.release();
                return null;
            }
            return who.isEmpty() ? "another process" : who;
        } catch (IOException e) {
            return null;
        }
    }

    private static String readHolder(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(256);
        int n = ch.read(b, 0);
        return n <= 0 ? "" : new String(b.array(), 0, n, StandardCharsets.UTF_8).strip();
    }

    /** Whether {@code pid@host} names a live process on this host (another host's holder is assumed alive). */
    static boolean holderAlive(String holder) {
        int at = holder.indexOf('@');
        if (at <= 0) {
            return false;
        }
        if (!holder.substring(at + 1).equals(host())) {
            return true;
        }
        try {
            long pid = Long.parseLong(holder.substring(0, at));
            return pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    static String host() {
        try {
            Path linux = Path.of("/proc/sys/kernel/hostname");
            if (java.nio.file.Files.isReadable(linux)) {
                return java.nio.file.Files.readString(linux).strip();
            }
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
