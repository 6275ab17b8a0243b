package org.aiwae.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One epoch's line of {@code metrics.jsonl}, written by Jackson with these snake_case keys in this
 * order. Every value is reproducible from the seed; wall-clock times are in {@link EpochTiming}.
 *
 * @param lr               learning rate of the epoch
 * @param loss             mean training loss (the negative objective) over the epoch
 * @param encoderLoss      mean loss of the inference network
 * @param testBound        {@code L_k} on held-out test images after the epoch
 * @param meanImageBound   log-likelihood of the same images under independent Bernoullis at the training mean:
 *                         what a model that ignores z reaches (absent in runs from before it was recorded)
 * @param acceptance       AIWAE: mean HMC acceptance per temperature step (absent otherwise)
 * @param stepSizes        AIWAE: HMC step size per temperature step at the end of the epoch (absent otherwise)
 * @param attempt          the attempt that succeeded when the epoch was retrained after a divergence (absent otherwise)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EpochMetrics(int epoch, Method method, double lr, double loss, double encoderLoss, double testBound,
                           int testBoundSamples, int testBoundImages, Double meanImageBound, List<Double> acceptance,
                           List<Double> stepSizes, Integer attempt) {}
