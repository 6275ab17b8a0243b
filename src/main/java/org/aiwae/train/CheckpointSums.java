package org.aiwae.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import org.aiwae.AiwaeException;
import org.aiwae.io.IoErrors;
import org.aiwae.io.Sha256Sums;

/**
 * The SHA-256 of each file of a checkpoint, in {@code SHA256SUMS} in the checkpoint's folder (coreutils'
 * sha256sum format), written with the checkpoint and checked whenever one is read: a file that differs is
 * a {@link DamagedCheckpoint}, never used.
 */
public final class CheckpointSums {
    /** The sums file's name in a checkpoint folder. */
    public static final String SUMS = "SHA256SUMS";

    private CheckpointSums() {}

    /** The sums of checkpoint folder {@code unit}, or null when it has none (written before checksums). */
    static Map<String, String> read(Path unit) {
        Path f = unit.resolve(SUMS);
        byte[] content;
        try {
            if (Files.size(f) > Sha256Sums.MAX_BYTES) {
                throw new DamagedCheckpoint(f + " is corrupt: larger than a sums file");
            }
            content = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + f + ": " + IoErrors.reason(e), e);
        }
        try {
            return Sha256Sums.parse(content, f.toString());
        } catch (AiwaeException e) {
            throw new DamagedCheckpoint(e.getMessage());
        }
    }

    /** File {@code name} of {@code unit}, read as {@code content}, must have the SHA-256 that {@code sums} records for it. */
    static void verify(Path unit, Map<String, String> sums, String name, byte[] content) {
        String want = sums.get(name);
        if (want == null) {
            throw new DamagedCheckpoint(unit.resolve(SUMS) + " is corrupt: it has no SHA-256 for " + name);
        }
        if (!want.equals(Sha256Sums.of(content))) {
            throw new DamagedCheckpoint(unit.resolve(name) + " is damaged: its SHA-256 differs from the one in " + SUMS
                    + " (recorded when the checkpoint was written)");
        }
    }

    /** The note about a checkpoint folder that has no sums to check its files against. */
    public static String unchecked(Path unit) {
        return "warning: " + unit + " has no " + SUMS + " (written by an older version); its files are read unchecked";
    }
}
