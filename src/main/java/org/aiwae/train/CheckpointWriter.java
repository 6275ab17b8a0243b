package org.aiwae.train;

import static org.aiwae.train.RunFolder.CHECKPOINTS;
import static org.aiwae.train.RunFolder.METRICS;
import static org.aiwae.train.RunFolder.MODEL;
import static org.aiwae.train.RunFolder.STATE;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.aiwae.AiwaeException;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;
import org.aiwae.io.SafeTensors;
import org.aiwae.io.Sha256Sums;

/**
 * Writes and publishes a checkpoint ({@link Checkpoints}). It is written under a temporary name with every file
 * and folder forced to the disk, renamed into place, and published by atomically replacing the pointer file
 * {@code LATEST}; only then are the top-level copies replaced and older checkpoints pruned
 * ({@link CheckpointRepair}). Readers resolve the pointer, so a kill at any instant leaves either the previous
 * checkpoint or the new one, never a mix.
 */
final class CheckpointWriter {
    private CheckpointWriter() {}

    /**
     * Publishes {@code s} as the checkpoint of epoch {@code s.epoch()}; {@code probe} hears each
     * step ({@code "unit-model:partial"}, ..., {@code "pointer:renamed"}, ..., {@code "pruned"})
     * so crash tests can stop the process there.
     */
    static void publish(Path dir, TrainConfig config, Checkpoint s, Consumer<String> probe) {
        String name = Checkpoints.unitName(s.epoch());
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
            AtomicFiles.writeNew(tmp.resolve(CheckpointSums.SUMS), Sha256Sums.encode(Map.of(MODEL, model, STATE, state,
                    METRICS, metrics)), step -> probe.accept("unit-sums:" + step));
            AtomicFiles.syncDirectory(tmp);
            if (Files.exists(unit)) { // left by a run killed before it moved the pointer; never the published one
                if (s.epoch() == Checkpoints.latestEpoch(dir)) {
                    throw new IllegalStateException("refusing to replace the published checkpoint " + unit);
                }
                RunFolder.deleteTree(unit);
            }
            Files.move(tmp, unit, StandardCopyOption.ATOMIC_MOVE);
            probe.accept("unit:renamed");
            AtomicFiles.syncDirectory(checkpoints);
            Checkpoints.point(dir, name, step -> probe.accept("pointer:" + step));
            CheckpointRepair.copyToTop(dir, unit, probe);
            CheckpointRepair.prune(dir, s.epoch());
            probe.accept("pruned");
        } catch (IOException e) {
            RunFolder.deleteTree(tmp);
            throw new AiwaeException("cannot write the checkpoint of epoch " + s.epoch() + " to " + checkpoints + ": "
                    + e.getMessage() + "; the previous checkpoint is intact");
        }
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
}
