package org.aiwae.train;

import static org.aiwae.train.RunFolder.CHECKPOINTS;
import static org.aiwae.train.RunFolder.METRICS;
import static org.aiwae.train.RunFolder.MODEL;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.aiwae.AiwaeException;
import org.aiwae.io.AtomicFiles;

/**
 * Keeps a run folder's checkpoints ({@link Checkpoints}) as a finished publish leaves them: the top-level
 * copies match the published checkpoint, the newest {@value Checkpoints#KEEP} stay, and nothing unpublished
 * or temporary is left.
 */
final class CheckpointRepair {
    private CheckpointRepair() {}

    /**
     * Brings a run folder that a kill interrupted to the state a finished publish leaves. Called under the
     * lock before a resumed run continues.
     */
    static void repair(Path dir) {
        try {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".*.tmp")) {
                for (Path p : ds) {
                    Files.deleteIfExists(p);
                }
            }
            Path unit = Checkpoints.latestUnit(dir);
            if (unit != null) {
                copyToTop(dir, unit, step -> {});
            }
            int latest = Checkpoints.latestEpoch(dir);
            prune(dir, latest);
            RunFolder.trimTimings(dir, latest);
        } catch (IOException e) {
            throw new AiwaeException("cannot tidy the run folder " + dir + ": " + e.getMessage());
        }
    }

    /** Replaces the top-level {@code model.safetensors} and {@code metrics.jsonl} by checkpoint {@code unit}'s where they differ. */
    static void copyToTop(Path dir, Path unit, Consumer<String> probe) throws IOException {
        for (String f : List.of(MODEL, METRICS)) {
            byte[] want = Files.readAllBytes(unit.resolve(f));
            Path top = dir.resolve(f);
            if (!Files.isRegularFile(top) || !Arrays.equals(want, Files.readAllBytes(top))) {
                AtomicFiles.write(top, want, step -> probe.accept("copy-" + f + ":" + step));
            }
        }
    }

    /** Deletes every checkpoint folder but the newest {@value Checkpoints#KEEP} up to {@code latest}, and any temporary one. */
    static void prune(Path dir, int latest) throws IOException {
        Path checkpoints = dir.resolve(CHECKPOINTS);
        if (!Files.isDirectory(checkpoints)) {
            return;
        }
        TreeSet<Integer> kept = new TreeSet<>();
        List<Path> doomed = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(checkpoints)) {
            for (Path p : ds) {
                int epoch = Checkpoints.epochOfUnit(p);
                if (epoch >= 0 && epoch <= latest) {
                    kept.add(epoch);
                } else {
                    doomed.add(p);
                }
            }
        }
        while (kept.size() > Checkpoints.KEEP) {
            doomed.add(checkpoints.resolve(Checkpoints.unitName(kept.pollFirst())));
        }
        if (!doomed.isEmpty()) {
            for (Path p : doomed) {
                RunFolder.deleteTree(p);
            }
            AtomicFiles.syncDirectory(checkpoints);
        }
    }
}
