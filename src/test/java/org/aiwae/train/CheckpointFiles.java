package org.aiwae.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.aiwae.io.Sha256Sums;

/**
 * For tests that damage or edit copies of a run folder: {@link #copy} copies one, {@link #reseal} records
 * edited files' new SHA-256 in their checkpoint's {@code SHA256SUMS}, as a file crafted with matching sums
 * would have them (to test the readers behind the checksums).
 */
public final class CheckpointFiles {
    private CheckpointFiles() {}

    /** Copies folder {@code from} (files and folders) to {@code to}, which must not exist; returns {@code to}. */
    public static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        return to;
    }

    /** Rewrites the {@code SHA256SUMS} of every checkpoint folder under {@code root} for the files' present bytes. */
    public static void reseal(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path sums : s.filter(p -> p.getFileName().toString().equals(CheckpointSums.SUMS)).toList()) {
                Path unit = sums.getParent();
                Map<String, byte[]> files = new LinkedHashMap<>();
                for (String name : Sha256Sums.parse(Files.readAllBytes(sums), sums.toString()).keySet()) {
                    files.put(name, Files.readAllBytes(unit.resolve(name)));
                }
                Files.write(sums, Sha256Sums.encode(files));
            }
        }
    }
}
