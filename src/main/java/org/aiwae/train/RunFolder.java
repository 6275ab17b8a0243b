package org.aiwae.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.aiwae.AiwaeException;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;

/**
 * A training run's folder: {@code config.json} (what defines the run, written once when the folder is
 * created and again when a resume changes what may change), {@code timings.jsonl} (wall-clock times,
 * the one file that differs between runs of a seed), {@code lock} ({@link RunLock}), and the checkpoints
 * under {@code checkpoints/} with the pointer {@code LATEST} and the top-level copies of the newest
 * {@code model.safetensors} and {@code metrics.jsonl} ({@link Checkpoints}). This class names the
 * files and writes the ones outside the checkpoints.
 */
public final class RunFolder {
    public static final String CONFIG = "config.json";
    public static final String MODEL = "model.safetensors";
    public static final String STATE = "train-state.safetensors";
    public static final String METRICS = "metrics.jsonl";
    public static final String TIMINGS = "timings.jsonl";
    public static final String LATEST = "LATEST";
    public static final String CHECKPOINTS = "checkpoints";
    public static final String LOCK = "lock";

    private RunFolder() {}

    public static void writeConfig(Path dir, TrainConfig config) throws IOException {
        AtomicFiles.writeString(dir.resolve(CONFIG), Json.write(config) + "\n");
    }

    /** The run's configuration, validated like the flags: a wrong type or value is one line naming the file and field. */
    public static TrainConfig readConfig(Path dir) {
        Path f = dir.resolve(CONFIG);
        if (!Files.isRegularFile(f)) {
            throw new AiwaeException(dir + " is not a training run folder (no " + CONFIG + ")");
        }
        return Json.read(f, TrainConfig.class);
    }

    /**
     * Creates run folder {@code dir} with its {@code config.json} in one step (a folder beside it,
     * renamed into place), so no folder without a configuration is ever seen.
     */
    static void create(Path dir, TrainConfig config) {
        Path abs = dir.toAbsolutePath();
        if (Files.exists(abs)) {
            throw new AiwaeException("output folder " + dir + " already exists (a run folder is never overwritten)");
        }
        Path tmp = null;
        try {
            Files.createDirectories(abs.getParent());
            tmp = Files.createDirectory(AtomicFiles.temporary(abs.getParent(), abs.getFileName().toString()));
            AtomicFiles.writeNew(tmp.resolve(CONFIG), (Json.write(config) + "\n").getBytes(StandardCharsets.UTF_8), s -> {});
            AtomicFiles.syncDirectory(tmp);
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            AtomicFiles.syncDirectory(abs.getParent());
        } catch (FileAlreadyExistsException e) {
            throw new AiwaeException("output folder " + dir + " already exists (a run folder is never overwritten)");
        } catch (IOException e) {
            throw new AiwaeException("cannot create the run folder " + dir + ": " + e.getMessage());
        } finally {
            if (tmp != null) {
                deleteTree(tmp);
            }
        }
    }

    /**
     * Drops the lines of {@code timings.jsonl} of epochs after {@code latest}: written just before a
     * checkpoint that a kill kept from being published, they are written again when it is.
     */
    static void trimTimings(Path dir, int latest) throws IOException {
        Path f = dir.resolve(TIMINGS);
        if (!Files.isRegularFile(f)) {
            return;
        }
        String old = Files.readString(f, StandardCharsets.UTF_8);
        StringBuilder kept = new StringBuilder();
        for (String line : old.substring(0, old.lastIndexOf('\n') + 1).split("\n")) {
            Matcher m = TIMING_EPOCH.matcher(line);
            if (m.lookingAt() && Long.parseLong(m.group(1)) <= latest) {
                kept.append(line).append('\n');
            }
        }
        if (!kept.toString().equals(old)) {
            AtomicFiles.writeString(f, kept.toString());
        }
    }

    /** The start of a line of {@code timings.jsonl}, as {@link EpochTiming} is written. */
    private static final Pattern TIMING_EPOCH = Pattern.compile("\\{\"epoch\":(\\d{1,9}),");

    /**
     * Appends one line to {@code timings.jsonl} (replaced atomically; a torn line from a kill is dropped).
     * Called before the epoch's checkpoint is published, so a kill right after publishing keeps the line;
     * {@link CheckpointRepair#repair} drops it again when the checkpoint was not published.
     */
    static void appendTiming(Path dir, String line) {
        Path f = dir.resolve(TIMINGS);
        try {
            StringBuilder sb = new StringBuilder();
            if (Files.isRegularFile(f)) {
                String old = Files.readString(f, StandardCharsets.UTF_8);
                sb.append(old, 0, old.lastIndexOf('\n') + 1);
            }
            sb.append(line).append('\n');
            AtomicFiles.writeString(f, sb.toString());
        } catch (IOException e) {
            throw new AiwaeException(org.aiwae.io.IoErrors.writing(f, e).getMessage(), e);
        }
    }

    static void deleteTree(Path p) {
        try {
            AtomicFiles.deleteTree(p);
        } catch (IOException e) {
            throw new AiwaeException("cannot delete " + p + ": " + e.getMessage());
        }
    }

}
