package org.aiwae.train;

import static org.aiwae.train.RunFolder.CHECKPOINTS;
import static org.aiwae.train.RunFolder.LATEST;
import static org.aiwae.train.RunFolder.METRICS;
import static org.aiwae.train.RunFolder.MODEL;
import static org.aiwae.train.RunFolder.STATE;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.aiwae.AiwaeException;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;
import org.aiwae.io.SafeTensors;
import org.aiwae.io.Sha256Sums;
import org.aiwae.model.MlpVae;

/**
 * The checkpoints of a run folder ({@link RunFolder}). Each finished epoch is one checkpoint, a folder
 * {@code checkpoints/epoch-NNNN/} holding {@code model.safetensors} (the parameters, PyTorch names,
 * configuration and epoch as string metadata), {@code train-state.safetensors} (Adam moments and step
 * counts, the objective's state such as HMC step sizes), {@code metrics.jsonl} (every metrics line up to
 * that epoch) and {@code SHA256SUMS} (the SHA-256 of those three, checked whenever a checkpoint is read: a
 * damaged file is {@link Damaged}, never used). It is written under a temporary name with every file and
 * folder forced to the disk, renamed into place, and published by atomically replacing the pointer file
 * {@code LATEST}; only then are the convenience copies {@code model.safetensors} and {@code metrics.jsonl}
 * at the top replaced and older checkpoints pruned (the last {@value #KEEP} stay). Readers resolve the
 * pointer, so a kill at any instant leaves either the previous checkpoint or the new one, never a mix;
 * {@link #repair} brings a folder that a kill interrupted to the state a finished publish leaves, and
 * {@link #readLastGood} finds the newest intact checkpoint when the newest is damaged.
 */
public final class CheckpointStore {
    /** The SHA-256 of each file of a checkpoint, in the checkpoint's folder (coreutils' sha256sum format). */
    public static final String SUMS = "SHA256SUMS";
    /** How many published checkpoints are kept. */
    public static final int KEEP = 2;
    private static final Pattern UNIT = Pattern.compile("epoch-(\\d{4,9})");

    private CheckpointStore() {}

    /**
     * The trained model of a run folder, with its configuration and epoch; {@code unverified} names the
     * checkpoint folder when it has no {@code SHA256SUMS} to check the model against (written by an
     * older version), else null.
     */
    public record Loaded(MlpVae model, TrainConfig config, int epoch, Path unverified) {}

    /**
     * Reads the model of the newest published checkpoint of run folder {@code dir}, checked against the
     * SHA-256 that the checkpoint's {@code SHA256SUMS} records ({@link Damaged} if it differs).
     */
    public static Loaded readModel(Path dir) {
        TrainConfig config = RunFolder.readConfig(dir);
        for (int attempt = 0; ; attempt++) {
            Path f = modelFile(dir);
            try {
                Path unit = f.getParent();
                boolean inUnit = !unit.equals(dir);
                Map<String, String> sums = inUnit ? sums(dir, unit) : null;
                byte[] bytes = bytes(f);
                if (sums != null) {
                    verify(dir, unit, sums, MODEL, bytes);
                }
                SafeTensors.Contents c = SafeTensors.read(bytes, f.toString());
                MlpVae model = MlpVae.create(784, config.hidden(), config.latent(), new RandomStream(0));
                TensorRestore.copyInto(model.namedParameters(), c.tensors(), f);
                return new Loaded(model, config, epochOf(c, f), inUnit && sums == null ? unit : null);
            } catch (NoSuchFileException e) {
                if (attempt == 2) { // pruned by a writer three times in a row: give up
                    throw new AiwaeException("cannot read " + f + ": it disappeared while a training run was publishing");
                }
            }
        }
    }

    /**
     * The model file of the newest published checkpoint: {@code checkpoints/epoch-NNNN/model.safetensors}
     * through {@code LATEST}, else a top-level {@code model.safetensors} (run folders of older versions).
     */
    public static Path modelFile(Path dir) {
        Path unit = latestUnit(dir);
        if (unit != null) {
            return unit.resolve(MODEL);
        }
        boolean copies = Files.exists(dir.resolve(MODEL), java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if (copies && !units(dir).isEmpty()) { // a run folder of this version whose pointer is gone
            throw new Damaged(dir, dir.resolve(LATEST) + " is missing, but the run had published epochs ("
                    + String.join(", ", publishedWithoutPointer(dir)) + ")");
        }
        if (copies) {
            return dir.resolve(MODEL);
        }
        throw new NoCheckpointYet(dir);
    }

    /** A run folder whose first epoch has not finished: there is no model to read yet (resuming the run continues it). */
    public static final class NoCheckpointYet extends Unusable {
        NoCheckpointYet(Path dir) {
            super(dir, dir + " has no checkpoint yet (no epoch finished)");
        }
    }

    /** A run folder whose model cannot be read now; what continues the run depends on which ({@link #dir}). */
    public abstract static sealed class Unusable extends AiwaeException permits NoCheckpointYet, Damaged {
        private final Path dir;

        Unusable(Path dir, String message) {
            super(message);
            this.dir = dir;
        }

        /** The run folder. */
        public Path dir() {
            return dir;
        }
    }

    /**
     * A run folder whose newest checkpoint cannot be used as it is: {@code LATEST} missing although
     * epochs were published, {@code LATEST} corrupt or naming a missing folder, a file of the checkpoint
     * missing or different from the SHA-256 its {@code SHA256SUMS} records, or a corrupt
     * {@code SHA256SUMS}. Resuming from an older checkpoint (or from the start) is the user's decision,
     * never taken silently.
     */
    public static final class Damaged extends Unusable {
        Damaged(Path dir, String message) {
            super(dir, message);
        }
    }

    /** The number of the newest published epoch, 0 if none. */
    public static int latestEpoch(Path dir) {
        Path unit = latestUnit(dir);
        return unit == null ? 0 : Integer.parseInt(unit.getFileName().toString().substring("epoch-".length()));
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
            throw new Damaged(dir, pointer + " is corrupt: it should name a checkpoint such as epoch-0003, holds '"
                    + (name.length() > 40 ? name.substring(0, 40) + "..." : name) + "'");
        }
        Path unit = dir.resolve(CHECKPOINTS).resolve(name);
        if (!Files.isDirectory(unit)) {
            throw new Damaged(dir, pointer + " names " + unit + ", which does not exist");
        }
        return unit;
    }

    static String unitName(int epoch) {
        return String.format("epoch-%04d", epoch);
    }

    /**
     * Publishes {@code s} as the checkpoint of epoch {@code s.epoch()}; {@code probe} hears each
     * step ({@code "unit-model:partial"}, ..., {@code "pointer:renamed"}, ..., {@code "pruned"})
     * so crash tests can stop the process there.
     */
    static void publish(Path dir, TrainConfig config, Checkpoint s, Consumer<String> probe) {
        String name = unitName(s.epoch());
        Path checkpoints = dir.resolve(CHECKPOINTS);
        Path tmp = checkpoints.resolve("." + name + ".tmp");
        Path unit = checkpoints.resolve(name);
        byte[] model = modelBytes(config, s);
        byte[] state = stateBytes(s);
        byte[] metrics = metricsBytes(s.metrics());
        try {
            if (!Files.isDirectory(checkpoints)) {
                Files.createDirectories(checkpoints);
                AtomicFiles.syncDirectory(dir);
            }
            RunFolder.deleteTree(tmp);
            Files.createDirectory(tmp);
            AtomicFiles.writeNew(tmp.resolve(MODEL), model, step -> probe.accept("unit-model:" + step));
            AtomicFiles.writeNew(tmp.resolve(STATE), state, step -> probe.accept("unit-state:" + step));
            AtomicFiles.writeNew(tmp.resolve(METRICS), metrics, step -> probe.accept("unit-metrics:" + step));
            AtomicFiles.writeNew(tmp.resolve(SUMS), Sha256Sums.encode(Map.of(MODEL, model, STATE, state, METRICS, metrics)),
                    step -> probe.accept("unit-sums:" + step));
            AtomicFiles.syncDirectory(tmp);
            if (Files.exists(unit)) { // left by a run killed before it moved the pointer; never the published one
                if (s.epoch() == latestEpoch(dir)) {
                    throw new IllegalStateException("refusing to replace the published checkpoint " + unit);
                }
                RunFolder.deleteTree(unit);
            }
            Files.move(tmp, unit, StandardCopyOption.ATOMIC_MOVE);
            probe.accept("unit:renamed");
            AtomicFiles.syncDirectory(checkpoints);
            AtomicFiles.write(dir.resolve(LATEST), (name + "\n").getBytes(StandardCharsets.UTF_8),
                    step -> probe.accept("pointer:" + step));
            publishCopies(dir, unit, probe);
            prune(dir, s.epoch());
            probe.accept("pruned");
        } catch (IOException e) {
            RunFolder.deleteTree(tmp);
            throw new AiwaeException("cannot write the checkpoint of epoch " + s.epoch() + " to " + checkpoints + ": "
                    + e.getMessage() + "; the previous checkpoint is intact");
        }
    }

    /**
     * Brings a run folder to the state a finished publish leaves: the top-level copies match the
     * published checkpoint, unpublished and older checkpoints and temporary files are gone. Called
     * under the lock before a resumed run continues.
     */
    static void repair(Path dir) {
        try {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".*.tmp")) {
                for (Path p : ds) {
                    Files.deleteIfExists(p);
                }
            }
            Path unit = latestUnit(dir);
            if (unit != null) {
                publishCopies(dir, unit, step -> {});
            }
            int latest = latestEpoch(dir);
            prune(dir, latest);
            RunFolder.trimTimings(dir, latest);
        } catch (IOException e) {
            throw new AiwaeException("cannot tidy the run folder " + dir + ": " + e.getMessage());
        }
    }

    private static void publishCopies(Path dir, Path unit, Consumer<String> probe) throws IOException {
        for (String f : List.of(MODEL, METRICS)) {
            byte[] want = Files.readAllBytes(unit.resolve(f));
            Path top = dir.resolve(f);
            if (!Files.isRegularFile(top) || !Arrays.equals(want, Files.readAllBytes(top))) {
                AtomicFiles.write(top, want, step -> probe.accept("copy-" + f + ":" + step));
            }
        }
    }

    /** Deletes every checkpoint folder but the newest {@value #KEEP} up to {@code latest}, and any temporary one. */
    private static void prune(Path dir, int latest) throws IOException {
        Path checkpoints = dir.resolve(CHECKPOINTS);
        if (!Files.isDirectory(checkpoints)) {
            return;
        }
        TreeSet<Integer> kept = new TreeSet<>();
        List<Path> doomed = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(checkpoints)) {
            for (Path p : ds) {
                Matcher m = UNIT.matcher(p.getFileName().toString());
                if (m.matches() && Integer.parseInt(m.group(1)) <= latest) {
                    kept.add(Integer.parseInt(m.group(1)));
                } else {
                    doomed.add(p);
                }
            }
        }
        while (kept.size() > KEEP) {
            doomed.add(checkpoints.resolve(unitName(kept.pollFirst())));
        }
        if (!doomed.isEmpty()) {
            for (Path p : doomed) {
                RunFolder.deleteTree(p);
            }
            AtomicFiles.syncDirectory(checkpoints);
        }
    }

    /**
     * Reads the newest published checkpoint, or null when none was published. A folder without
     * {@code LATEST} whose other files show that epochs were published is {@link Damaged}: resuming it
     * from epoch 0 would throw that progress away.
     */
    static Checkpoint readLatest(Path dir, Consumer<String> note) {
        Path unit = latestUnit(dir);
        if (unit == null) {
            boolean legacy = Files.isRegularFile(dir.resolve(MODEL)) && Files.isRegularFile(dir.resolve(STATE));
            if (legacy) {
                return read(dir, dir, note);
            }
            List<String> progress = publishedWithoutPointer(dir);
            if (!progress.isEmpty()) {
                throw new Damaged(dir, dir.resolve(LATEST) + " is missing, but the run had published epochs ("
                        + String.join(", ", progress) + ")");
            }
            return null;
        }
        return read(dir, unit, note);
    }

    /** {@link #readLatest(Path, Consumer)} without notes. */
    static Checkpoint readLatest(Path dir) {
        return readLatest(dir, m -> {});
    }

    /**
     * The newest checkpoint that can be read, for a resume told to fall back: the one {@code LATEST}
     * names when it is intact, else the newest intact one at or before it (any, when {@code LATEST}
     * itself is missing or corrupt), else null (the initial weights). Each checkpoint passed over is
     * reported to {@code note} with the reason. The folder is not changed; {@link #pointAt} then
     * makes the choice the published one.
     */
    static Checkpoint readLastGood(Path dir, Consumer<String> note) {
        String damage;
        try {
            return readLatest(dir, note);
        } catch (AiwaeException e) {
            damage = e.getMessage();
        }
        int bound = Integer.MAX_VALUE; // LATEST missing or damaged itself: every checkpoint folder is a candidate
        try {
            if (Files.exists(dir.resolve(LATEST))) {
                bound = latestEpoch(dir);
            }
        } catch (AiwaeException e) {
            // as above
        }
        note.accept(damage);
        for (int epoch : units(dir)) {
            if (epoch > bound) {
                continue;
            }
            Path unit = dir.resolve(CHECKPOINTS).resolve(unitName(epoch));
            try {
                Checkpoint s = read(dir, unit, note);
                note.accept("continuing from " + unit + ", the newest intact checkpoint (epoch " + s.epoch() + ")");
                return s;
            } catch (AiwaeException e) {
                if (bound != epoch) { // the one LATEST names was reported above
                    note.accept(e.getMessage());
                }
            }
        }
        note.accept("no intact checkpoint in " + dir.resolve(CHECKPOINTS) + "; starting from the initial weights (epoch 0)");
        return null;
    }

    /**
     * Makes the checkpoint of {@code epoch} the published one by replacing {@code LATEST} (epoch 0:
     * removing it), for a resume that fell back to an older checkpoint; {@link #repair} then prunes the newer ones.
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
                AtomicFiles.write(pointer, (unitName(epoch) + "\n").getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new AiwaeException(org.aiwae.io.IoErrors.writing(pointer, e).getMessage(), e);
        }
    }

    /**
     * What shows, in a folder without {@code LATEST}, that a checkpoint was published: the top-level
     * copies (written only after {@code LATEST} moved) or a checkpoint of epoch 2 or later (trained only
     * after epoch 1 was published). A lone {@code epoch-0001} is what a kill before the first pointer leaves.
     */
    private static List<String> publishedWithoutPointer(Path dir) {
        List<String> found = new ArrayList<>();
        for (int epoch : units(dir)) {
            if (epoch >= 2) {
                found.add(CHECKPOINTS + "/" + unitName(epoch));
            }
        }
        for (String copy : List.of(MODEL, METRICS)) {
            if (Files.exists(dir.resolve(copy), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                found.add(copy);
            }
        }
        return found;
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
                Matcher m = UNIT.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    epochs.add(Integer.parseInt(m.group(1)));
                }
            }
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + checkpoints + ": " + e.getMessage());
        }
        epochs.sort(java.util.Comparator.reverseOrder());
        return epochs;
    }

    /**
     * Reads checkpoint folder {@code unit} of run folder {@code dir} (or a run folder of an older version
     * with the files at its top, {@code unit == dir}), each file checked against {@code SHA256SUMS} before
     * it is parsed. A checkpoint without sums (older versions) is read unchecked and reported to {@code note}.
     */
    private static Checkpoint read(Path dir, Path unit, Consumer<String> note) {
        Path mf = unit.resolve(MODEL), sf = unit.resolve(STATE), metricsFile = unit.resolve(METRICS);
        Map<String, String> sums = unit.equals(dir) ? null : sums(dir, unit);
        if (sums == null) {
            note.accept(unchecked(unit));
        }
        byte[] modelBytes, stateBytes, metricsBytes;
        try {
            modelBytes = bytes(mf);
            stateBytes = bytes(sf);
            metricsBytes = sums != null || Files.exists(metricsFile) ? bytes(metricsFile) : new byte[0];
        } catch (NoSuchFileException e) {
            throw new Damaged(dir, "cannot read " + e.getFile() + ": the file is missing");
        }
        if (sums != null) {
            verify(dir, unit, sums, MODEL, modelBytes);
            verify(dir, unit, sums, STATE, stateBytes);
            verify(dir, unit, sums, METRICS, metricsBytes);
        }
        SafeTensors.Contents model = SafeTensors.read(modelBytes, mf.toString());
        SafeTensors.Contents state = SafeTensors.read(stateBytes, sf.toString());
        int epoch = epochOf(model, mf);
        if (epochOf(state, sf) != epoch) {
            throw new AiwaeException(sf + " is at epoch " + epochOf(state, sf) + " but " + mf + " at " + epoch
                    + "; the checkpoint is corrupt");
        }
        List<String> metrics = new ArrayList<>();
        for (String line : new String(metricsBytes, StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                metrics.add(line);
            }
        }
        return new Checkpoint(epoch, model.tensors(), state.tensors(), steps(state, sf, AdamState.GENERATIVE_STEPS),
                steps(state, sf, AdamState.INFERENCE_STEPS), metrics, unit);
    }

    private static byte[] modelBytes(TrainConfig config, Checkpoint s) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "aiwae-model-1");
        Json.fields(config).forEach((k, v) -> meta.put(k, String.valueOf(v)));
        meta.put("epoch", String.valueOf(s.epoch()));
        return SafeTensors.encode(s.model(), meta);
    }

    private static byte[] stateBytes(Checkpoint s) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "aiwae-train-state-1");
        meta.put("epoch", String.valueOf(s.epoch()));
        meta.put(AdamState.GENERATIVE_STEPS, String.valueOf(s.generativeSteps()));
        meta.put(AdamState.INFERENCE_STEPS, String.valueOf(s.inferenceSteps()));
        return SafeTensors.encode(s.state(), meta);
    }

    private static byte[] metricsBytes(List<String> lines) {
        return lines.isEmpty() ? new byte[0] : (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static int epochOf(SafeTensors.Contents c, Path f) {
        try {
            return Integer.parseInt(c.metadata().getOrDefault("epoch", "0"));
        } catch (NumberFormatException e) {
            throw new AiwaeException(f + " has a corrupt epoch '" + c.metadata().get("epoch") + "' in its metadata");
        }
    }

    private static long steps(SafeTensors.Contents c, Path f, String key) {
        try {
            long n = Long.parseLong(c.metadata().getOrDefault(key, "0"));
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new AiwaeException(f + " has a corrupt '" + key + "' in its metadata");
        }
    }

    /** A checkpoint file's bytes; a missing file is a NoSuchFileException, any other failure one line naming it. */
    private static byte[] bytes(Path f) throws NoSuchFileException {
        try {
            long size = Files.size(f);
            if (size > Integer.MAX_VALUE - 8) {
                throw new AiwaeException(f + " is too large for a checkpoint file (" + size + " bytes)");
            }
            return Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + f + ": " + org.aiwae.io.IoErrors.reason(e), e);
        }
    }

    /** The sums of checkpoint folder {@code unit} of run {@code dir}, or null when it has none (written before checksums). */
    private static Map<String, String> sums(Path dir, Path unit) {
        Path f = unit.resolve(SUMS);
        byte[] content;
        try {
            if (Files.size(f) > Sha256Sums.MAX_BYTES) {
                throw new Damaged(dir, f + " is corrupt: larger than a sums file");
            }
            content = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + f + ": " + org.aiwae.io.IoErrors.reason(e), e);
        }
        try {
            return Sha256Sums.parse(content, f.toString());
        } catch (AiwaeException e) {
            throw new Damaged(dir, e.getMessage());
        }
    }

    /** {@code name}'s bytes must have the SHA-256 that {@code sums} records for it. */
    private static void verify(Path dir, Path unit, Map<String, String> sums, String name, byte[] content) {
        String want = sums.get(name);
        if (want == null) {
            throw new Damaged(dir, unit.resolve(SUMS) + " is corrupt: it has no SHA-256 for " + name);
        }
        if (!want.equals(Sha256Sums.of(content))) {
            throw new Damaged(dir, unit.resolve(name) + " is damaged: its SHA-256 differs from the one in " + SUMS
                    + " (recorded when the checkpoint was written)");
        }
    }

    /** The note about a checkpoint folder that has no sums to check its files against. */
    public static String unchecked(Path unit) {
        return "warning: " + unit + " has no " + SUMS + " (written by an older version); its files are read unchecked";
    }
}
