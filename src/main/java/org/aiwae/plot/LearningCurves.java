package org.aiwae.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.aiwae.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Learning curves of one or more runs as PNG, drawn with XChart: the held-out bound with the
 * mean-image baseline and the training losses per epoch; when a run is AIWAE, also its HMC
 * acceptance rate and step size per temperature step. Panels are {@link #PANEL_WIDTH} x
 * {@link #PANEL_HEIGHT} pixels, two per row.
 */
public final class LearningCurves {
    public static final int PANEL_WIDTH = 640;
    public static final int PANEL_HEIGHT = 440;

    /** Tableau's ten colours: one per run. */
    private static final Color[] RUNS = {new Color(0x1F77B4), new Color(0xFF7F0E), new Color(0x2CA02C),
        new Color(0xD62728), new Color(0x9467BD), new Color(0x8C564B), new Color(0xE377C2), new Color(0x7F7F7F),
        new Color(0xBCBD22), new Color(0x17BECF)};
    private static final BasicStroke[] STYLES = {SeriesLines.SOLID, SeriesLines.DASH_DASH, SeriesLines.DOT_DOT,
        SeriesLines.DASH_DOT};

    private LearningCurves() {}

    /** The panels for these runs: 2 without an AIWAE run, 4 with one. */
    public static List<XYChart> charts(List<RunCurves> runs) {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("no runs to plot");
        }
        runs = distinctNames(runs);
        List<XYChart> charts = new ArrayList<>(List.of(bound(runs), losses(runs)));
        if (runs.stream().anyMatch(RunCurves::annealed)) {
            charts.add(acceptance(runs));
            charts.add(stepSizes(runs));
        }
        return charts;
    }

    /** Width and height in pixels of the picture {@link #write} makes for these runs. */
    public static int[] size(List<RunCurves> runs) {
        int panels = charts(runs).size();
        return new int[] {2 * PANEL_WIDTH, (panels + 1) / 2 * PANEL_HEIGHT};
    }

    /** Writes the panels as one PNG, two per row, atomically (the file appears whole or not at all). */
    public static void write(List<RunCurves> runs, Path file) throws IOException {
        List<XYChart> charts = charts(runs);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(charts, (charts.size() + 1) / 2, 2, png, BitmapEncoder.BitmapFormat.PNG);
        AtomicFiles.write(file, png.toByteArray());
    }

    /** Legends need distinct names: a repeated one gets its position appended. */
    private static List<RunCurves> distinctNames(List<RunCurves> runs) {
        List<RunCurves> out = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            RunCurves r = runs.get(i);
            String name = r.name();
            if (runs.stream().filter(o -> o.name().equals(name)).count() > 1) {
                r = new RunCurves(name + " #" + (i + 1), r.description(), r.epochs(), r.testBound(), r.boundLabel(), r.loss(), r.encoderLoss(),
                        r.acceptance(), r.stepSizes(), r.meanImageBound());
            }
            out.add(r);
        }
        return out;
    }

    private static XYChart bound(List<RunCurves> runs) {
        String what = runs.stream().map(RunCurves::boundLabel).distinct().count() == 1 ? runs.get(0).boundLabel() : "L_K on test images";
        XYChart c = chart("Held-out bound (higher is better)", what + " (nats)", Styler.LegendPosition.InsideSE);
        double first = runs.stream().mapToDouble(r -> r.epochs()[0]).min().orElse(1);
        double last = runs.stream().mapToDouble(r -> r.epochs()[r.epochs().length - 1]).max().orElse(1);
        double[] baselines = runs.stream().mapToDouble(RunCurves::meanImageBound).filter(b -> !Double.isNaN(b)).distinct().toArray();
        for (int i = 0; i < runs.size(); i++) {
            RunCurves r = runs.get(i);
            line(c, r.label(), r.epochs(), r.testBound(), color(i), SeriesLines.SOLID, true);
            if (baselines.length > 1 && !Double.isNaN(r.meanImageBound())) {
                line(c, r.name() + ": mean-image baseline", new double[] {first, last},
                        new double[] {r.meanImageBound(), r.meanImageBound()}, color(i), SeriesLines.DASH_DASH, false);
            }
        }
        if (baselines.length == 1) {
            line(c, "mean-image baseline (a model that ignores z)", new double[] {first, last},
                    new double[] {baselines[0], baselines[0]}, Color.DARK_GRAY, SeriesLines.DASH_DASH, false);
        }
        return c;
    }

    private static XYChart losses(List<RunCurves> runs) {
        XYChart c = chart("Training losses (lower is better)", "loss per training image (nats)", Styler.LegendPosition.InsideNE);
        for (int i = 0; i < runs.size(); i++) {
            RunCurves r = runs.get(i);
            if (Arrays.equals(r.loss(), r.encoderLoss())) {
                line(c, r.label(), r.epochs(), r.loss(), color(i), SeriesLines.SOLID, true);
            } else {
                line(c, r.label() + ": decoder, -\u03a3 w log p(x, z)", r.epochs(), r.loss(), color(i), SeriesLines.SOLID, true);
                line(c, r.label() + ": encoder, -ELBO", r.epochs(), r.encoderLoss(), color(i), SeriesLines.DASH_DASH, true);
            }
        }
        return c;
    }

    private static XYChart acceptance(List<RunCurves> runs) {
        XYChart c = chart("HMC acceptance per temperature step (AIWAE)", "acceptance rate (fraction of proposals)",
                Styler.LegendPosition.InsideSE);
        c.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
        perTemperature(c, runs, true);
        double first = runs.stream().mapToDouble(r -> r.epochs()[0]).min().orElse(1);
        double last = runs.stream().mapToDouble(r -> r.epochs()[r.epochs().length - 1]).max().orElse(1);
        line(c, "adaptation target 0.6", new double[] {first, last}, new double[] {0.6, 0.6}, Color.DARK_GRAY,
                SeriesLines.DASH_DASH, false);
        return c;
    }

    private static XYChart stepSizes(List<RunCurves> runs) {
        XYChart c = chart("HMC step size per temperature step (AIWAE)", "leapfrog step size (log scale)",
                Styler.LegendPosition.InsideNW);
        double min = Double.POSITIVE_INFINITY, max = 0;
        for (RunCurves r : runs) {
            for (double[] epoch : r.stepSizes()) {
                for (double v : epoch) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        // a 1-2-5 range around the data, so that the log axis shows at least two labelled ticks
        c.getStyler().setYAxisLogarithmic(true).setYAxisLogarithmicDecadeOnly(false)
                .setYAxisMin(nice(min, false)).setYAxisMax(nice(max, true));
        perTemperature(c, runs, false);
        return c;
    }

    /** One series per (AIWAE run, temperature step t = 1..T-1): colour by t, line style by run. */
    private static void perTemperature(XYChart c, List<RunCurves> runs, boolean acceptance) {
        List<RunCurves> annealed = runs.stream().filter(RunCurves::annealed).toList();
        if (annealed.size() > 1) { // (T-1) entries per run: beside the plot, not over the curves
            c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        }
        for (int i = 0; i < annealed.size(); i++) {
            RunCurves r = annealed.get(i);
            int steps = r.acceptance()[0].length;
            for (int t = 0; t < steps; t++) {
                double[] y = new double[r.epochs().length];
                for (int e = 0; e < y.length; e++) {
                    y[e] = (acceptance ? r.acceptance() : r.stepSizes())[e][t];
                }
                // training anneals on the linear schedule: step t runs at beta = t / (T - 1)
                String name = String.format("\u03b2 = %.2f", (t + 1) / (double) steps);
                line(c, annealed.size() > 1 ? r.name() + ": " + name : name, r.epochs(), y,
                        new Color(Colormap.viridis(0.85 * t / Math.max(1, steps - 1))), STYLES[i % STYLES.length], true);
            }
        }
    }

    /** The most points a curve marks one by one. */
    static final int MARKED_EPOCHS = 60;

    private static XYChart chart(String title, String yTitle, Styler.LegendPosition legend) {
        XYChart c = new XYChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT).title(title).xAxisTitle("epoch")
                .yAxisTitle(yTitle).build();
        Styler s = c.getStyler();
        c.getStyler().setPlotGridLinesColor(new Color(0xE0E0E0)).setXAxisDecimalPattern("#");
        c.getStyler().setChartBackgroundColor(Color.WHITE).setPlotBackgroundColor(Color.WHITE).setPlotBorderColor(Color.GRAY);
        c.getStyler().setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13))
                .setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 14)).setChartTitleBoxVisible(false)
                .setLegendPosition(legend).setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11))
                .setLegendBackgroundColor(new Color(255, 255, 255, 220)).setLegendBorderColor(Color.LIGHT_GRAY)
                .setAntiAlias(true);
        return c;
    }

    private static void line(XYChart c, String name, double[] x, double[] y, Color color, BasicStroke style, boolean markers) {
        if (c.getSeriesMap().isEmpty() && x.length > MARKED_EPOCHS) {
            roundTicks(c, x, y);
        }
        XYSeries s = c.addSeries(name, x, y);
        // a marker per epoch while they stay apart; a long run's hundreds of epochs are a line
        s.setMarker(markers && x.length <= MARKED_EPOCHS ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        s.setLineColor(color);
        s.setLineStyle(style);
        s.setMarkerColor(color);
    }

    /**
     * Round-number epoch ticks (0, 50, 100, ...) for a long run. XChart labels every k-th data
     * point instead when the x values, taken in the order the series were added, are equally
     * spaced; on a few hundred epochs that puts labels edge to edge. An invisible first series
     * from the last epoch to the first breaks that order without drawing anything.
     */
    private static void roundTicks(XYChart c, double[] x, double[] y) {
        double level = Arrays.stream(y).filter(Double::isFinite).findFirst().orElse(0);
        XYSeries s = c.addSeries(" ", new double[] {x[x.length - 1], x[0]}, new double[] {level, level});
        s.setShowInLegend(false);
        s.setLineStyle(SeriesLines.NONE);
        s.setMarker(SeriesMarkers.NONE);
    }

    /** The largest 1, 2 or 5 times a power of ten at or below {@code v} ({@code up}: the smallest at or above). */
    static double nice(double v, boolean up) {
        double p = StrictMath.pow(10, Math.floor(StrictMath.log10(v)));
        double[] steps = {1, 2, 5, 10};
        double best = up ? 10 * p : p;
        for (double m : steps) {
            if (up ? m * p >= v * (1 - 1e-9) && m * p < best : m * p <= v * (1 + 1e-9) && m * p > best) {
                best = m * p;
            }
        }
        return best;
    }

    private static Color color(int run) {
        return RUNS[run % RUNS.length];
    }
}
