package org.aiwae.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * Durable file replacement: the content goes to a temporary file in the same folder, is forced to
 * the disk, renamed over the target in one atomic step, and the folder itself is forced so the
 * rename survives a power loss. A reader sees the old file or the new one, never a mix. Files get
 * the permissions of any new file (the user's umask), not the 0600 of a temporary file. A failure
 * (read-only or full disk, missing folder) leaves no temporary file behind and is an
 * {@link IoErrors.FileFailure} whose message is "cannot write FILE: reason".
 */
public final class AtomicFiles {
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private AtomicFiles() {}

    public static void write(Path file, byte[] content) throws IOException {
        write(file, content, step -> {});
    }

    /**
     * As {@link #write(Path, byte[])}, calling {@code probe} between the steps with
     * {@code "partial"} (half the bytes in the temporary file), {@code "written"} (all of them,
     * forced) and {@code "renamed"} (in place, folder not yet forced). Crash tests stop the
     * process there.
     */
    public static void write(Path file, byte[] content, Consumer<String> probe) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = temporary(dir, file.getFileName().toString());
        try {
            write(tmp, content, probe, StandardOpenOption.CREATE_NEW);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            probe.accept("renamed");
            syncDirectory(dir);
        } catch (IOException e) {
            throw IoErrors.writing(file, e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the write's own failure (if any) is what gets reported
            }
        }
    }

    /**
     * A fresh random name {@code .NAME.RANDOM.tmp} in {@code dir} for a file or folder that is
     * renamed to NAME once complete. Created with the process's usual permissions (the umask),
     * unlike {@link Files#createTempFile}'s 0600.
     */
    public static Path temporary(Path dir, String name) {
        return dir.resolve("." + name + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
    }

    public static void writeString(Path file, String content) throws IOException {
        write(file, content.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes {@code content} to {@code file} (created or truncated) and forces it to the disk; not
     * atomic by itself, for files inside a folder that is published as a whole. {@code probe}
     * hears {@code "partial"} after half the bytes and {@code "written"} at the end.
     */
    public static void writeNew(Path file, byte[] content, Consumer<String> probe) throws IOException {
        try {
            write(file, content, probe, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw IoErrors.writing(file, e);
        }
    }

    private static void write(Path file, byte[] content, Consumer<String> probe, StandardOpenOption... create)
            throws IOException {
        java.util.Set<java.nio.file.OpenOption> options = new java.util.HashSet<>(java.util.List.of(create));
        options.add(StandardOpenOption.WRITE);
        options.add(java.nio.file.LinkOption.NOFOLLOW_LINKS);
        try (FileChannel ch = FileChannel.open(file, options)) {
            int half = content.length / 2;
            writeFully(ch, ByteBuffer.wrap(content, 0, half));
            probe.accept("partial");
            writeFully(ch, ByteBuffer.wrap(content, half, content.length - half));
            ch.force(true);
        }
        probe.accept("written");
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Removes {@code p} and, when it is a folder, everything under it; links are removed, never followed; absent is fine. */
    public static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                for (Path c : ds) {
                    deleteTree(c);
                }
            }
        }
        Files.deleteIfExists(p);
    }

    /**
     * Forces a folder's entries (creations, renames, deletions) to the disk. File systems that
     * cannot open a folder for this (not Linux or macOS) are skipped silently.
     */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (!System.getProperty("os.name", "").toLowerCase().contains("win")) {
                throw e;
            }
        }
    }
}
