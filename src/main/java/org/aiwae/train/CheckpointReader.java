package org.aiwae.train;

import static org.aiwae.train.RunFolder.CHECKPOINTS;
import static org.aiwae.train.RunFolder.LATEST;
import static org.aiwae.train.RunFolder.METRICS;
import static org.aiwae.train.RunFolder.MODEL;
import static org.aiwae.train.RunFolder.STATE;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.aiwae.AiwaeException;
import org.aiwae.io.IoErrors;
import org.aiwae.io.SafeTensors;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.MlpVae;

/**
 * Reads the checkpoints of a run folder ({@link Checkpoints}), each file checked against the SHA-256 its
 * {@code SHA256SUMS} records before it is parsed ({@link CheckpointSums}): the trained model for the commands
 * that use it, the whole checkpoint for a resume, or the newest intact one when the newest is damaged.
 */
public final class CheckpointReader {
    private CheckpointReader() {}

    /**
     * The trained model of a run folder, with its configuration and epoch; {@code unverified} names the
     * checkpoint folder when it has no {@code SHA256SUMS} to check the model against (written by an
     * older version), else null.
     */
    public record Loaded<M extends LatentVariableModel>(M model, TrainConfig config, int epoch, Path unverified) {}

    /** {@link #readModel(Path, ModelRecipe)} of the paper's model ({@link ModelRecipe#PAPER}). */
    public static Loaded<MlpVae> readModel(Path dir) {
        return readModel(dir, ModelRecipe.PAPER);
    }

    /**
     * Reads the model of the newest published checkpoint of run folder {@code dir} into the model that
     * {@code recipe} makes of the run's configuration over the images of its dataset, checked against the
     * SHA-256 that the checkpoint's {@code SHA256SUMS} records ({@link DamagedCheckpoint} if it differs).
     */
    public static <M extends LatentVariableModel> Loaded<M> readModel(Path dir, ModelRecipe<M> recipe) {
        TrainConfig config = RunFolder.readConfig(dir);
        for (int attempt = 0; ; attempt++) {
            Path f = modelFile(dir);
            try {
                Path unit = f.getParent();
                boolean inUnit = !unit.equals(dir);
                Map<String, String> sums = inUnit ? CheckpointSums.read(unit) : null;
                byte[] bytes = bytes(f);
                if (sums != null) {
                    CheckpointSums.verify(unit, sums, MODEL, bytes);
                }
                SafeTensors.Contents c = SafeTensors.read(bytes, f.toString());
                M model = recipe.create(config, config.pixels());
                TensorRestore.copyInto(model.namedParameters(), c.tensors(), f);
                return new Loaded<>(model, config, epochOf(c, f), inUnit && sums == null ? unit : null);
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
        Path unit = Checkpoints.latestUnit(dir);
        if (unit != null) {
            return unit.resolve(MODEL);
        }
        boolean copies = Files.exists(dir.resolve(MODEL), LinkOption.NOFOLLOW_LINKS);
        if (copies && !Checkpoints.units(dir).isEmpty()) { // a run folder of this version whose pointer is gone
            throw Checkpoints.publishedWithoutPointer(dir);
        }
        if (copies) {
            return dir.resolve(MODEL);
        }
        throw new NoCheckpointYet(dir);
    }

    /**
     * Reads the newest published checkpoint, or null when none was published. A folder without
     * {@code LATEST} whose other files show that epochs were published is {@link DamagedCheckpoint}: resuming it
     * from epoch 0 would throw that progress away.
     */
    static Checkpoint readLatest(Path dir, Consumer<String> note) {
        Path unit = Checkpoints.latestUnit(dir);
        if (unit == null) {
            boolean legacy = Files.isRegularFile(dir.resolve(MODEL)) && Files.isRegularFile(dir.resolve(STATE));
            if (legacy) {
                return read(dir, dir, note);
            }
            DamagedCheckpoint published = Checkpoints.publishedWithoutPointer(dir);
            if (published != null) {
                throw published;
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
     * reported to {@code note} with the reason. The folder is not changed; {@link Checkpoints#pointAt} then
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
                bound = Checkpoints.latestEpoch(dir);
            }
        } catch (AiwaeException e) {
            // as above
        }
        note.accept(damage);
        for (int epoch : Checkpoints.units(dir)) {
            if (epoch > bound) {
                continue;
            }
            Path unit = dir.resolve(CHECKPOINTS).resolve(Checkpoints.unitName(epoch));
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
     * Reads checkpoint folder {@code unit} of run folder {@code dir} (or a run folder of an older version
     * with the files at its top, {@code unit == dir}), each file checked against {@code SHA256SUMS} before
     * it is parsed. A checkpoint without sums (older versions) is read unchecked and reported to {@code note}.
     */
    private static Checkpoint read(Path dir, Path unit, Consumer<String> note) {
        Path mf = unit.resolve(MODEL), sf = unit.resolve(STATE), metricsFile = unit.resolve(METRICS);
        Map<String, String> sums = unit.equals(dir) ? null : CheckpointSums.read(unit);
        if (sums == null) {
            note.accept(CheckpointSums.unchecked(unit));
        }
        byte[] modelBytes, stateBytes, metricsBytes;
        try {
            modelBytes = bytes(mf);
            stateBytes = bytes(sf);
            metricsBytes = sums != null || Files.exists(metricsFile) ? bytes(metricsFile) : new byte[0];
        } catch (NoSuchFileException e) {
            throw new DamagedCheckpoint("cannot read " + e.getFile() + ": the file is missing");
        }
        if (sums != null) {
            CheckpointSums.verify(unit, sums, MODEL, modelBytes);
            CheckpointSums.verify(unit, sums, STATE, stateBytes);
            CheckpointSums.verify(unit, sums, METRICS, metricsBytes);
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
            throw new AiwaeException("cannot read " + f + ": " + IoErrors.reason(e), e);
        }
    }
}
