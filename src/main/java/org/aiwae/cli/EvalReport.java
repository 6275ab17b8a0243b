package org.aiwae.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import org.aiwae.eval.Evaluator;
import org.aiwae.train.Method;
import org.aiwae.train.TrainConfig;

/**
 * {@code eval.json}: what {@code aiwae eval} measured on a run, written by Jackson with these
 * snake_case keys in this order; {@code table} reads it back. A split that was not evaluated is absent.
 *
 * @param epoch  the run's epoch that was evaluated
 * @param genGap NLL(test) - NLL(train), with {@code --split both}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record EvalReport(String checkpoint, String dataset, Method method, TrainConfig config, int epoch, Evaluator.Protocol protocol,
                  SplitResult test, SplitResult train, Double genGap, double seconds) {

    /**
     * One split's results (means over its images, in nats).
     *
     * @param varGap      NVLB - NLL
     * @param activeUnits test split: units with A_h above 0.01
     * @param activity    test split: A_h per latent dimension
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record SplitResult(int images, double nll, double nvlb, double varGap, Integer activeUnits, List<Double> activity) {}

    SplitResult split(String name) {
        return name.equals("test") ? test : train;
    }
}
