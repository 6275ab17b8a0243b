package org.aiwae.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

class LearningCurvesTest {

    /** An AIWAE run of {@code n} epochs with two temperature steps. */
    private static RunCurves run(int n) {
        double[] epochs = IntStream.rangeClosed(1, n).asDoubleStream().toArray();
        double[] bound = IntStream.range(0, n).mapToDouble(i -> -100 - 50.0 / (i + 1)).toArray();
        double[] loss = IntStream.range(0, n).mapToDouble(i -> 100 + 50.0 / (i + 1)).toArray();
        double[][] acc = new double[n][], steps = new double[n][];
        for (int i = 0; i < n; i++) {
            acc[i] = new double[] {0.6, 0.7};
            steps[i] = new double[] {0.05, 0.1};
        }
        return new RunCurves("r", "aiwae K=1 T=5 L=5", epochs, bound, "L_50", loss, loss, acc, steps, -200);
    }

    /**
     * XChart's rule: when the distinct x values in the order the series were added are equally
     * spaced, it labels every k-th data point and packs the labels edge to edge.
     */
    private static boolean labelsEveryKthPoint(XYChart c) {
        Set<Double> xs = new LinkedHashSet<>();
        for (XYSeries s : c.getSeriesMap().values()) {
            for (double x : s.getXData()) {
                xs.add(x);
            }
        }
        List<Double> v = new ArrayList<>(xs);
        return IntStream.range(1, v.size()).allMatch(i -> Math.abs(v.get(i) - v.get(i - 1) - (v.get(1) - v.get(0))) < 1e-4);
    }

    @Test
    void longRunsGetRoundEpochTicksOnEveryPanelShortOnesATickPerEpoch() {
        List<XYChart> long_ = LearningCurves.charts(List.of(run(332)));
        assertEquals(4, long_.size());
        for (XYChart c : long_) {
            assertFalse(labelsEveryKthPoint(c), c.getTitle());
            assertTrue(c.getSeriesMap().values().stream().filter(s -> !s.isShowInLegend()).count() <= 1, c.getTitle());
        }
        for (XYChart c : LearningCurves.charts(List.of(run(20)))) {
            assertTrue(labelsEveryKthPoint(c), c.getTitle());
            assertTrue(c.getSeriesMap().values().stream().allMatch(XYSeries::isShowInLegend), c.getTitle());
        }
    }
}
