package org.aiwae.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/** Turns I/O failures into one line that names the file, for {@link org.aiwae.AiwaeException} messages. */
public final class IoErrors {
    private IoErrors() {}

    /** Why an I/O operation failed, without the file name (which the caller puts first). */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied (or a read-only file system)";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "it already exists";
        }
        if (e instanceof NotDirectoryException) {
            return "not a folder";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replaceAll("\\s+", " ");
    }

    /**
     * An I/O failure whose message already names the file ("cannot write FILE: reason"); still an
     * IOException, so callers that clean up on IOException (a checkpoint's temporary folder) do.
     */
    public static final class FileFailure extends IOException {
        private static final long serialVersionUID = 1L;

        FileFailure(String message, IOException cause) {
            super(message, cause);
        }
    }

    /** "cannot write FILE: reason" (a failure that already names its file is kept as it is). */
    public static IOException writing(Path file, IOException e) {
        return e instanceof FileFailure ? e : new FileFailure("cannot write " + file + ": " + reason(e), e);
    }

    /**
     * The one line for an I/O failure that reached the command line without a file named by its
     * caller: a file-system error names its own file; anything else is reported as it is.
     */
    public static String describe(Exception e) {
        IOException io = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
        if (io instanceof FileFailure) {
            return io.getMessage();
        }
        if (io instanceof FileSystemException f && f.getFile() != null) {
            return "cannot access " + f.getFile() + (f.getOtherFile() != null ? " or " + f.getOtherFile() : "") + ": " + reason(io);
        }
        return "I/O error: " + reason(io);
    }
}
