package org.aiwae.plot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.aiwae.AiwaeException;
import org.aiwae.io.Json;
import org.aiwae.train.EpochMetrics;
import org.aiwae.train.RunFolder;

/**
 * The per-epoch series of one run folder's {@code metrics.jsonl}, ready to plot.
 *
 * @param name           the run's folder name
 * @param description    its configuration, e.g. {@code aiwae K=5 T=5 L=5} (empty when unknown)
 * @param epochs         1-based epoch numbers
 * @param testBound      held-out L_K per epoch (nats)
 * @param boundLabel     what {@code testBound} is, e.g. {@code L_50 on 100 test images}
 * @param loss           the generative update's loss per image (nats)
 * @param encoderLoss    the inference update's loss per image (nats); equals {@code loss} unless AIWAE
 * @param acceptance     HMC acceptance per epoch and temperature step (AIWAE), else empty
 * @param stepSizes      HMC step size per epoch and temperature step (AIWAE), else empty
 * @param meanImageBound the mean-image baseline on the same held-out images, NaN when the run has none
 */
public record RunCurves(String name, String description, double[] epochs, double[] testBound, String boundLabel, double[] loss,
                        double[] encoderLoss, double[][] acceptance, double[][] stepSizes, double meanImageBound) {

    /** The run in legends: folder name and configuration. */
    public String label() {
        return description.isEmpty() ? name : name + " (" + description + ")";
    }

    /** True when the run has HMC statistics to show (AIWAE). */
    public boolean annealed() {
        return acceptance.length > 0 && acceptance[0].length > 0;
    }

    /**
     * Reads a run folder; throws IllegalArgumentException naming the folder or file when it is
     * missing, holds no finished epoch, or a line is not a metrics record.
     */
    public static RunCurves read(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("run folder " + dir + " does not exist");
        }
        Path file = dir.resolve(RunFolder.METRICS);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(dir + " has no " + RunFolder.METRICS + " (not a training run, or no epoch finished yet)");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
        if (lines.isEmpty()) {
            throw new IllegalArgumentException(file + " is empty (no epoch finished yet)");
        }
        Path folder = dir.toAbsolutePath().normalize().getFileName();
        String description = Files.isRegularFile(dir.resolve(RunFolder.CONFIG)) ? RunFolder.readConfig(dir).label() : "";
        // restart events (an epoch retrained after a divergence) sit between the epochs' lines
        List<String> epochLines = new java.util.ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            try {
                if (!Json.tree(lines.get(i).getBytes(StandardCharsets.UTF_8), file + " line " + (i + 1)).has("event")) {
                    epochLines.add(lines.get(i));
                }
            } catch (AiwaeException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
        if (epochLines.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no finished epoch");
        }
        return fromLines(folder == null ? dir.toString() : folder.toString(), description, epochLines, file);
    }

    static RunCurves fromLines(String name, String description, List<String> lines, Path file) {
        int n = lines.size();
        double[] epochs = new double[n], bound = new double[n], loss = new double[n], enc = new double[n];
        double[][] acc = new double[n][], steps = new double[n][];
        double baseline = Double.NaN;
        String boundLabel = "L_K";
        for (int i = 0; i < n; i++) {
            EpochMetrics m;
            try { // lenient: lines of older versions carry fields (wall-clock times) that moved elsewhere
                m = Json.read(lines.get(i).getBytes(StandardCharsets.UTF_8), EpochMetrics.class, file + " line " + (i + 1), true);
            } catch (AiwaeException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            epochs[i] = m.epoch();
            bound[i] = m.testBound();
            loss[i] = m.loss();
            enc[i] = m.encoderLoss();
            acc[i] = numbers(m.acceptance());
            steps[i] = numbers(m.stepSizes());
            if (m.meanImageBound() != null) {
                baseline = m.meanImageBound();
            }
            boundLabel = "L_" + m.testBoundSamples() + " on " + m.testBoundImages() + " test images";
            if (acc[i].length != acc[0].length || steps[i].length != acc[i].length) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": the number of temperature steps changes");
            }
        }
        return new RunCurves(name, description, epochs, bound, boundLabel, loss, enc, acc, steps, baseline);
    }

    private static double[] numbers(List<Double> list) {
        return list == null ? new double[0] : list.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
