package org.aiwae.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import org.aiwae.eval.Evaluation;
import org.aiwae.eval.Evaluator;
import org.aiwae.eval.SplitResult;
import org.aiwae.io.Json;
import org.aiwae.train.Method;
import org.aiwae.train.TrainConfig;

/**
 * {@code eval.json}: what {@code aiwae eval} measured on a run, written by Jackson with these
 * snake_case keys in this order; {@code table} reads it back. A split that was not evaluated is absent.
 * It is computed from the per-image files {@code eval-<split>.jsonl} and holds no wall-clock time, so a
 * killed and resumed evaluation writes the same bytes as an uninterrupted one. A value that is not finite
 * is written as the string {@code "NaN"} / {@code "Infinity"} (JSON has no NaN), never as null.
 *
 * @param format  2 since per-image streams and files (absent, read as 0, in older files)
 * @param epoch   the run's epoch that was evaluated
 * @param backend where the arithmetic ran (cpu, opencl, cuda)
 * @param genGap  NLL(test) - NLL(train), with {@code --split both}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record EvalReport(int format, String checkpoint, String dataset, Method method, TrainConfig config, int epoch,
                  Evaluator.Protocol protocol, long seed, String backend, SplitResult test, SplitResult train, Double genGap) {

    /** The layout written now. */
    static final int FORMAT = Evaluation.FORMAT;

    SplitResult split(String name) {
        return name.equals("test") ? test : train;
    }

    /** The lines {@code aiwae eval} prints: each split's means, the generalisation gap, the protocol. */
    String table() {
        StringBuilder sb = new StringBuilder();
        for (String s : List.of("test", "train")) {
            SplitResult m = split(s);
            if (m != null) {
                sb.append(String.format("%-6s images %6d  NLL %8.3f  NVLB %8.3f  var gap %6.3f%s%s%n", s, m.images(), m.nll(),
                        m.nvlb(), m.varGap(), m.activeUnits() != null ? "  active units " + m.activeUnits() : "",
                        m.diverged() > 0 ? "  DIVERGED on " + m.diverged() + " images (NaN)" : ""));
            }
        }
        if (genGap != null) {
            sb.append(String.format("gen gap %.3f%n", genGap));
        }
        sb.append("protocol ").append(Json.write(protocol));
        return sb.toString();
    }
}
