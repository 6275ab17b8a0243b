package org.aiwae.train;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import org.aiwae.AiwaeException;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Var;

/**
 * Tensors read from a file copied into a model's or an optimiser's, checked: every expected tensor present
 * with the shape it must have, nothing else in the file, and only finite numbers (a checkpoint never holds
 * NaN or infinity, so one that does is corrupt).
 */
final class TensorRestore {
    private TensorRestore() {}

    /**
     * Copies {@code from}'s tensors into the same-named variables, checking that each exists with
     * the variable's shape and holds only finite numbers, and that {@code from} holds nothing else.
     */
    static void copyInto(Map<String, Var> into, Map<String, Tensor> from, Path file) {
        onlyThese(into.keySet(), from, file);
        for (Map.Entry<String, Var> e : into.entrySet()) {
            copyInto(e.getKey(), e.getValue().value(), from, file);
        }
    }

    /** {@code file}'s tensors must all be among {@code expected}: a tensor the model does not have is refused by name. */
    static void onlyThese(Set<String> expected, Map<String, Tensor> from, Path file) {
        for (String name : from.keySet()) {
            if (!expected.contains(name)) {
                throw new AiwaeException(file + ": unexpected tensor '" + name + "' (this run has none of that name); the file "
                        + "belongs to another model or is corrupt");
            }
        }
    }

    static void copyInto(String name, Tensor into, Map<String, Tensor> from, Path file) {
        Tensor t = from.get(name);
        if (t == null) {
            throw new AiwaeException(file + " has no tensor '" + name + "'");
        }
        if (!t.sameShape(into)) {
            throw new AiwaeException(file + ": tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", the configuration implies " + Arrays.toString(into.shape()));
        }
        for (float v : t.toArray()) {
            if (!Float.isFinite(v)) {
                throw new AiwaeException(file + ": tensor " + name + " holds " + v + "; a checkpoint never holds NaN or"
                        + " infinity, so the file is corrupt");
            }
        }
        into.copyFrom(t);
    }
}
