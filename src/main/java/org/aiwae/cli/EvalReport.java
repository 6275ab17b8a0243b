package org.aiwae.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import org.aiwae.eval.Evaluator;
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
    static final int FORMAT = 2;

    /**
     * One split's results (means over its images in image order, in nats).
     *
     * @param imageRange  the images evaluated, {@code A:B} for images A to B-1
     * @param results     the per-image file, next to eval.json
     * @param varGap      NVLB - NLL
     * @param diverged    images whose NLL or NVLB is not finite (then the means are NaN)
     * @param activeUnits test split: units with A_h above 0.01
     * @param activity    test split: A_h per latent dimension
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record SplitResult(int images, String imageRange, String results, double nll, double nvlb, double varGap, Integer diverged,
                       Integer activeUnits, List<Double> activity) {}

    SplitResult split(String name) {
        return name.equals("test") ? test : train;
    }
}
