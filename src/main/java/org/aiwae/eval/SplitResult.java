package org.aiwae.eval;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One split's results in {@code eval.json} (means over its images in image order, in nats).
 *
 * @param imageRange  the images evaluated, {@code A:B} for images A to B-1
 * @param results     the per-image file, next to eval.json
 * @param varGap      NVLB - NLL
 * @param diverged    images whose NLL or NVLB is not finite (then the means are NaN)
 * @param activeUnits test split: units with A_h above 0.01
 * @param activity    test split: A_h per latent dimension
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SplitResult(int images, String imageRange, String results, double nll, double nvlb, double varGap, Integer diverged,
                          Integer activeUnits, List<Double> activity) {}
