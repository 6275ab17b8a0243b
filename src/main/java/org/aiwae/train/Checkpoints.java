package org.aiwae.train;

import static org.aiwae.train.RunFolder.CHECKPOINTS;
import static org.aiwae.train.RunFolder.LATEST;
import static org.aiwae.train.RunFolder.METRICS;
import static org.aiwae.train.RunFolder.MODEL;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.aiwae.AiwaeException;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.IoErrors;

/**
 * The checkpoints of a run folder ({@link RunFolder}) and the pointer that publishes one. Each finished epoch
 * is one checkpoint, a folder {@code checkpoints/epoch-NNNN/} holding {@code model.safetensors} (the
 * parameters, PyTorch names, configuration and epoch as string metadata), {@code train-state.safetensors}
 * (Adam moments and step counts, the objective's state such as HMC step sizes), {@code metrics.jsonl} (every
 * metrics line up to that epoch) and {@code SHA256SUMS} ({@link CheckpointSums}). The pointer file
 * {@code LATEST} names the published one; the top-level {@code model.safetensors} and {@code metrics.jsonl}
 * are copies of its files. {@link CheckpointWriter} publishes a checkpoint, {@link CheckpointReader} reads
 * one, {@link CheckpointRepair} prunes and tidies after a kill. This class names and finds the folders.
 */
public final class Checkpoints {
    /** How many published checkpoints are kept. */
    public static final int KEEP = 2;
    private static final Pattern UNIT = Pattern.compile("epoch-(\\d{4,9})");

    private Checkpoints() {}

    /** The folder name of epoch {@code epoch}'s checkpoint, {@code epoch-NNNN}. */
    static String unitName(int epoch) {
        return String.format("epoch-%04d", epoch);
    }

    /** The epoch a checkpoint folder's name gives, or -1 when it is not one. */
    static int epochOfUnit(Path unit) {
        Matcher m = UNIT.matcher(unit.getFileName().toString());
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** The number of the newest published epoch, 0 if none. */
    public static int latestEpoch(Path dir) {
        Path unit = latestUnit(dir);
        return unit == null ? 0 : epochOfUnit(unit);
    }

    /** The folder {@code LATEST} names, or null when nothing was published yet. */
    static Path latestUnit(Path dir) {
        Path pointer = dir.resolve(LATEST);
        String name;
        try {
            name = Files.readString(pointer, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + pointer + ": " + e.getMessage());
        }
        if (!UNIT.matcher(name).matches()) {
            throw new DamagedCheckpoint(pointer + " is corrupt: it should name a checkpoint such as epoch-0003, holds '"
                    + (name.length() > 40 ? name.substring(0, 40) + "..." : name) + "'");
        }
        Path unit = dir.resolve(CHECKPOINTS).resolve(name);
        if (!Files.isDirectory(unit)) {
            throw new DamagedCheckpoint(pointer + " names " + unit + ", which does not exist");
        }
        return unit;
    }

    /** Publishes checkpoint folder {@code name} by atomically replacing {@code LATEST}; {@code probe} hears each step. */
    static void point(Path dir, String name, java.util.function.Consumer<String> probe) throws IOException {
        AtomicFiles.write(dir.resolve(LATEST), (name + "\n").getBytes(StandardCharsets.UTF_8), probe);
    }

    /**
     * Makes the checkpoint of {@code epoch} the published one by replacing {@code LATEST} (epoch 0:
     * removing it), for a resume that fell back to an older checkpoint; {@link CheckpointRepair#repair}
     * then prunes the newer ones.
     */
    static void pointAt(Path dir, int epoch) {
        Path pointer = dir.resolve(LATEST);
        try {
            if (Files.isRegularFile(pointer) && Files.readString(pointer, StandardCharsets.UTF_8).equals(unitName(epoch) + "\n")) {
                return; // already the published one
            }
            if (epoch == 0) {
                Files.deleteIfExists(pointer);
                AtomicFiles.syncDirectory(dir);
            } else {
                point(dir, unitName(epoch), step -> {});
            }
        } catch (IOException e) {
            throw new AiwaeException(IoErrors.writing(pointer, e).getMessage(), e);
        }
    }

    /** The epochs of the checkpoint folders {@code checkpoints/epoch-NNNN} present, newest first. */
    static List<Integer> units(Path dir) {
        Path checkpoints = dir.resolve(CHECKPOINTS);
        List<Integer> epochs = new ArrayList<>();
        if (!Files.isDirectory(checkpoints)) {
            return epochs;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(checkpoints)) {
            for (Path p : ds) {
                int epoch = epochOfUnit(p);
                if (epoch >= 0 && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    epochs.add(epoch);
                }
            }
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + checkpoints + ": " + e.getMessage());
        }
        epochs.sort(Comparator.reverseOrder());
        return epochs;
    }

    /**
     * The refusal of a folder without {@code LATEST} whose other files show that epochs were published,
     * or null when nothing shows it: the top-level copies (written only after {@code LATEST} moved) or a
     * checkpoint of epoch 2 or later (trained only after epoch 1 was published). A lone {@code epoch-0001}
     * is what a kill before the first pointer leaves.
     */
    static DamagedCheckpoint publishedWithoutPointer(Path dir) {
        List<String> found = new ArrayList<>();
        for (int epoch : units(dir)) {
            if (epoch >= 2) {
                found.add(CHECKPOINTS + "/" + unitName(epoch));
            }
        }
        for (String copy : List.of(MODEL, METRICS)) {
            if (Files.exists(dir.resolve(copy), LinkOption.NOFOLLOW_LINKS)) {
                found.add(copy);
            }
        }
        return found.isEmpty() ? null
                : new DamagedCheckpoint(dir.resolve(LATEST) + " is missing, but the run had published epochs ("
                        + String.join(", ", found) + ")");
    }
}
