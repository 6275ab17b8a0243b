package org.aiwae.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    /** Run files get the permissions of any new file (the user's umask), not a temporary file's 0600; no temporary file stays. */
    @Test
    void writtenFilesFollowTheUmaskAndReplaceAtomically() throws Exception {
        Assumptions.assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path plain = Files.createFile(dir.resolve("plain"));
        Set<PosixFilePermission> umask = Files.getPosixFilePermissions(plain);
        Path f = dir.resolve("config.json");
        AtomicFiles.writeString(f, "one");
        AtomicFiles.writeString(f, "two");
        assertEquals("two", Files.readString(f));
        assertEquals(umask, Files.getPosixFilePermissions(f));
        assertTrue(umask.contains(PosixFilePermission.OWNER_READ) && umask.contains(PosixFilePermission.OWNER_WRITE));
        try (var s = Files.list(dir)) {
            assertEquals(2, s.count(), "no temporary file left");
        }
    }
}
