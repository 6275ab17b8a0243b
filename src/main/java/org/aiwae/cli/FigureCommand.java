package org.aiwae.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.aiwae.AiwaeException;
import org.aiwae.data.Binarizer;
import org.aiwae.data.Datasets;
import org.aiwae.data.Images;
import org.aiwae.data.Split;
import org.aiwae.engine.Tensor;
import org.aiwae.model.MlpVae;
import org.aiwae.plot.Canvas;
import org.aiwae.plot.Figures;
import org.aiwae.train.Checkpoint;
import org.aiwae.train.Streams;

/** {@code aiwae posterior} and {@code aiwae samples}: the paper's pictures as PNG files. */
final class FigureCommand {
    static final String POSTERIOR_USAGE = """
            usage: aiwae posterior --checkpoint DIR[,DIR...] --out FILE.png [--images i,j,...] [--data-dir DIR] [--panel 112] [--seed S]
              For 2-d latent models: the first row shows the test images (default: the first test image of each
              digit 0-9), each further row the posterior p(z|x) of one run as a heat map around its mass
              (viridis: dark = low, yellow = high), as in the paper's Figures S0-S9.""";
    static final String SAMPLES_USAGE = """
            usage: aiwae samples --checkpoint DIR --out FILE.png [--grid 8] [--data-dir DIR] [--seed S]
              Three mosaics side by side: decoder means of z drawn from the prior, the first grid^2 test images,
              and their reconstructions (decoder mean at the encoder mean).""";

    private FigureCommand() {}

    static int posterior(String[] argv) throws Exception {
        Args a = new Args("posterior", argv, 1, Set.of("--checkpoint", "--out", "--images", "--data-dir", "--panel", "--seed"), Set.of());
        Path out = output(a);
        String dirs = a.string("--checkpoint", null);
        if (dirs == null) {
            throw new AiwaeException("posterior needs --checkpoint DIR[,DIR...] (2-d latent runs)");
        }
        int panel = a.integer("--panel", 112);
        if (panel < 28 || panel > 1024) {
            throw new AiwaeException("--panel must be between 28 and 1024 pixels, got " + panel);
        }
        List<MlpVae> models = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        String dataset = null;
        for (String d : dirs.split(",")) {
            Checkpoint.Loaded run = Checkpoint.readModel(Path.of(d));
            if (run.model().latentDim() != 2) {
                throw new AiwaeException("posterior figures need a 2-d latent model; " + d + " has latent " + run.model().latentDim()
                        + " (train with --latent 2)");
            }
            if (dataset != null && !dataset.equals(run.config().dataset())) {
                throw new AiwaeException("the runs were trained on different datasets (" + dataset + ", " + run.config().dataset() + ")");
            }
            dataset = run.config().dataset();
            models.add(run.model());
            labels.add(run.config().label() + " (" + d + ", epoch " + run.epoch() + ")");
        }
        Images test = Datasets.load(dataset, a.path("--data-dir")).test();
        int[] idx = a.has("--images") ? parseIndices(a.string("--images", ""), test.count()) : onePerDigit(test);
        Tensor x = binarized(test, idx, a.longValue("--seed", 0));
        Canvas c = Figures.posterior(models, x, panel);
        c.writePng(out);
        System.out.println("wrote " + out + " (" + c.width() + "x" + c.height() + "): columns = test images " + java.util.Arrays.toString(idx));
        System.out.println("  row 1: the binarised images");
        for (int i = 0; i < labels.size(); i++) {
            System.out.println("  row " + (i + 2) + ": p(z|x) of " + labels.get(i));
        }
        return 0;
    }

    static int samples(String[] argv) throws Exception {
        Args a = new Args("samples", argv, 1, Set.of("--checkpoint", "--out", "--grid", "--data-dir", "--seed"), Set.of());
        Path out = output(a);
        Path dir = a.path("--checkpoint");
        if (dir == null) {
            throw new AiwaeException("samples needs --checkpoint DIR");
        }
        int grid = a.integer("--grid", 8);
        if (grid < 1 || grid > 32) {
            throw new AiwaeException("--grid must be between 1 and 32, got " + grid);
        }
        Checkpoint.Loaded run = Checkpoint.readModel(dir);
        Split data = Datasets.load(run.config().dataset(), a.path("--data-dir"));
        int n = Math.min(grid * grid, data.test().count());
        int[] idx = java.util.stream.IntStream.range(0, n).toArray();
        long seed = a.longValue("--seed", 0);
        Canvas c = Figures.samplesAndReconstructions(run.model(), binarized(data.test(), idx, seed), grid,
                Streams.of(seed, Streams.EVAL, 3, 0));
        c.writePng(out);
        System.out.println("wrote " + out + " (" + c.width() + "x" + c.height() + "): samples from the prior | " + n
                + " test images | reconstructions, " + run.config().label() + " epoch " + run.epoch());
        return 0;
    }

    private static Path output(Args a) {
        Path out = a.path("--out");
        if (out == null || !out.getFileName().toString().toLowerCase().endsWith(".png")) {
            throw new AiwaeException("give the figure's file with --out FILE.png");
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new AiwaeException("folder " + parent + " does not exist");
        }
        return out;
    }

    private static Tensor binarized(Images images, int[] idx, long seed) {
        return Binarizer.sample(images.gather(idx, 0, idx.length), Streams.of(seed, Streams.EVAL_DATA, 3, 0));
    }

    static int[] parseIndices(String s, int count) {
        String[] parts = s.split(",");
        int[] idx = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                idx[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new AiwaeException("--images takes test-image indices like 3,2,1, got '" + s + "'");
            }
            if (idx[i] < 0 || idx[i] >= count) {
                throw new AiwaeException("--images: index " + idx[i] + " is outside the test set (0.." + (count - 1) + ")");
            }
        }
        return idx;
    }

    /** The first test image of each label 0-9 (the first ten images when there are no labels). */
    static int[] onePerDigit(Images test) {
        int[] labels = test.labels();
        if (labels == null) {
            return java.util.stream.IntStream.range(0, Math.min(10, test.count())).toArray();
        }
        List<Integer> idx = new ArrayList<>();
        for (int digit = 0; digit < 10; digit++) {
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == digit) {
                    idx.add(i);
                    break;
                }
            }
        }
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }
}
