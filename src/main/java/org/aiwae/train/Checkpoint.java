package org.aiwae.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.aiwae.engine.Tensor;

/**
 * What one checkpoint ({@link Checkpoints}) holds after {@code epoch} finished epochs: the model's
 * parameters, the optimisers' moments and the objective's state by name, the optimisers' step counts, and
 * every metrics line so far. {@code source} is where it was read from (null when taken in memory).
 */
record Checkpoint(int epoch, Map<String, Tensor> model, Map<String, Tensor> state, long generativeSteps,
                  long inferenceSteps, List<String> metrics, Path source) {

    /** This checkpoint with {@code lines} as its metrics. */
    Checkpoint withMetrics(List<String> lines) {
        return new Checkpoint(epoch, model, state, generativeSteps, inferenceSteps, List.copyOf(lines), source);
    }

    /** The first tensor (as "model NAME" or "state NAME") holding a NaN or an infinity, or null if all are finite. */
    String firstNonFinite() {
        String m = nonFinite(model);
        if (m != null) {
            return "parameter " + m;
        }
        String s = nonFinite(state);
        return s == null ? null : "training state " + s;
    }

    private static String nonFinite(Map<String, Tensor> tensors) {
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            float[] d = t.data();
            for (int i = t.offset(), end = t.offset() + t.size(); i < end; i++) {
                if (!Float.isFinite(d[i])) {
                    return e.getKey();
                }
            }
        }
        return null;
    }
}
