package org.aiwae.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.aiwae.AiwaeException;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.optim.Adam;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;
import org.aiwae.io.SafeTensors;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.MlpVae;
import org.aiwae.engine.random.RandomStream;

/**
 * A run folder: {@code config.json}, {@code model.safetensors} (the parameters, PyTorch names,
 * configuration as string metadata), {@code train-state.safetensors} (Adam moments, HMC step
 * sizes, the epoch) and {@code metrics.jsonl}. Each file is replaced atomically.
 */
public final class Checkpoint {
    public static final String CONFIG = "config.json";
    public static final String MODEL = "model.safetensors";
    public static final String STATE = "train-state.safetensors";
    public static final String METRICS = "metrics.jsonl";

    private Checkpoint() {}

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

    /** Saves the model with the configuration and epoch as metadata. */
    public static void writeModel(Path dir, LatentVariableModel model, TrainConfig config, int epoch) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        model.namedParameters().forEach((k, v) -> tensors.put(k, v.value()));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "aiwae-model-1");
        Json.fields(config).forEach((k, v) -> meta.put(k, String.valueOf(v)));
        meta.put("epoch", String.valueOf(epoch));
        SafeTensors.write(dir.resolve(MODEL), tensors, meta);
    }

    /** The trained model of a run folder, with its configuration and epoch. */
    public record Loaded(MlpVae model, TrainConfig config, int epoch) {}

    public static Loaded readModel(Path dir) {
        TrainConfig config = readConfig(dir);
        Path f = dir.resolve(MODEL);
        if (!Files.isRegularFile(f)) {
            throw new AiwaeException(dir + " has no " + MODEL + " yet (no epoch finished)");
        }
        SafeTensors.Contents c = SafeTensors.read(f);
        MlpVae model = MlpVae.create(784, config.hidden(), config.latent(), new RandomStream(0));
        for (Map.Entry<String, Var> e : model.namedParameters().entrySet()) {
            Tensor t = c.require(e.getKey(), f);
            if (!t.sameShape(e.getValue().value())) {
                throw new AiwaeException(f + ": tensor " + e.getKey() + " has shape " + java.util.Arrays.toString(t.shape())
                        + ", the configuration implies " + java.util.Arrays.toString(e.getValue().shape()));
            }
            e.getValue().value().copyFrom(t);
        }
        int epoch = Integer.parseInt(c.metadata().getOrDefault("epoch", "0"));
        return new Loaded(model, config, epoch);
    }

    /** Saves the optimiser moments, step sizes and epoch. */
    public static void writeState(Path dir, Map<String, Var> named, Adam gen, Adam inf, float[] stepSizes, int epoch)
            throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        putMoments(tensors, "adam.gen", named, gen);
        putMoments(tensors, "adam.inf", named, inf);
        if (stepSizes != null) {
            tensors.put("hmc.step_sizes", Tensor.of(stepSizes, stepSizes.length));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "aiwae-train-state-1");
        meta.put("epoch", String.valueOf(epoch));
        meta.put("adam.gen.steps", String.valueOf(gen.steps()));
        meta.put("adam.inf.steps", String.valueOf(inf.steps()));
        SafeTensors.write(dir.resolve(STATE), tensors, meta);
    }

    /** Restores what {@link #writeState} saved; returns the step sizes (or null) and the epoch. */
    public static int readState(Path dir, Map<String, Var> named, Adam gen, Adam inf, float[] stepSizesOut) {
        Path f = dir.resolve(STATE);
        if (!Files.isRegularFile(f)) {
            throw new AiwaeException(dir + " has no " + STATE + "; nothing to resume");
        }
        SafeTensors.Contents c = SafeTensors.read(f);
        readMoments(c, f, "adam.gen", named, gen);
        readMoments(c, f, "adam.inf", named, inf);
        gen.restoreSteps(Long.parseLong(c.metadata().getOrDefault("adam.gen.steps", "0")));
        inf.restoreSteps(Long.parseLong(c.metadata().getOrDefault("adam.inf.steps", "0")));
        if (stepSizesOut != null) {
            Tensor s = c.require("hmc.step_sizes", f);
            if (s.size() != stepSizesOut.length) {
                throw new AiwaeException(f + ": " + s.size() + " step sizes for " + stepSizesOut.length + " temperature steps");
            }
            System.arraycopy(s.toArray(), 0, stepSizesOut, 0, stepSizesOut.length);
        }
        return Integer.parseInt(c.metadata().getOrDefault("epoch", "0"));
    }

    private static String nameOf(Map<String, Var> named, Var v) {
        for (Map.Entry<String, Var> e : named.entrySet()) {
            if (e.getValue() == v) {
                return e.getKey();
            }
        }
        throw new IllegalStateException("optimised parameter without a name");
    }

    private static void putMoments(Map<String, Tensor> out, String prefix, Map<String, Var> named, Adam adam) {
        List<Var> params = adam.params();
        for (int i = 0; i < params.size(); i++) {
            String n = nameOf(named, params.get(i));
            out.put(prefix + ".m." + n, adam.firstMoments()[i]);
            out.put(prefix + ".v." + n, adam.secondMoments()[i]);
        }
    }

    private static void readMoments(SafeTensors.Contents c, Path f, String prefix, Map<String, Var> named, Adam adam) {
        List<Var> params = adam.params();
        for (int i = 0; i < params.size(); i++) {
            String n = nameOf(named, params.get(i));
            adam.firstMoments()[i].copyFrom(c.require(prefix + ".m." + n, f));
            adam.secondMoments()[i].copyFrom(c.require(prefix + ".v." + n, f));
        }
    }
}
