package org.aiwae.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.aiwae.AiwaeException;
import org.aiwae.data.Binarizer;
import org.aiwae.data.Datasets;
import org.aiwae.data.Images;
import org.aiwae.data.Split;
import org.aiwae.engine.Tensor;
import org.aiwae.model.MlpVae;
import org.aiwae.plot.Canvas;
import org.aiwae.plot.Figures;
import org.aiwae.plot.LearningCurves;
import org.aiwae.plot.RunCurves;
import org.aiwae.train.Checkpoint;
import org.aiwae.train.Streams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code aiwae posterior}, {@code aiwae samples} and {@code aiwae plot}: pictures as PNG files. */
final class FigureCommand {
    private FigureCommand() {}

    @Command(name = "posterior", header = "heat maps of p(z|x) for 2-d latent runs, as in Figures S0-S9 (PNG)", sortOptions = false,
            description = {"For 2-d latent models: the first row shows test images (default: the first test image of each "
                    + "digit 0-9), each further row the posterior p(z|x) of one run as a heat map around its mass "
                    + "(viridis: dark = low, yellow = high), as in the paper's Figures S0-S9."})
    static final class Posterior implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--checkpoint", paramLabel = "DIR", split = ",", required = true,
                description = "run folders with a 2-d latent model, comma-separated: one row each")
        List<Path> dirs;

        @Option(names = "--out", paramLabel = "FILE.png", required = true, description = "the PNG file to write")
        Path out;

        @Option(names = "--images", paramLabel = "I", split = ",",
                description = "test-image indices, comma-separated (e.g. 3,2,1); default: one image of each digit")
        int[] images;

        @Option(names = "--panel", paramLabel = "PIXELS", defaultValue = "112",
                description = "side of each panel, 28-1024 pixels; default: ${DEFAULT-VALUE}")
        int panel;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
                description = "seed of the images' binarisation; default: ${DEFAULT-VALUE}")
        long seed;

        @Mixin
        DataDirOption dataDir;

        @Override
        public Integer call() throws Exception {
            checkPng(spec, out);
            if (panel < 28 || panel > 1024) {
                throw new ParameterException(spec.commandLine(), "--panel must be between 28 and 1024 pixels, got " + panel);
            }
            List<MlpVae> models = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            String dataset = null;
            for (Path d : dirs) {
                Checkpoint.Loaded run = Checkpoint.readModel(d);
                if (run.model().latentDim() != 2) {
                    throw new AiwaeException("posterior figures need a 2-d latent model; " + d + " has latent "
                            + run.model().latentDim() + " (train with --latent 2)");
                }
                if (dataset != null && !dataset.equals(run.config().dataset())) {
                    throw new AiwaeException("the runs were trained on different datasets (" + dataset + ", " + run.config().dataset() + ")");
                }
                dataset = run.config().dataset();
                models.add(run.model());
                labels.add(run.config().label() + " (" + d + ", epoch " + run.epoch() + ")");
            }
            Images test = Datasets.load(dataset, dataDir.dir).test();
            int[] idx = images != null ? checkIndices(spec, images, test.count()) : onePerDigit(test);
            Tensor x = binarized(test, idx, seed);
            Canvas c = Figures.posterior(models, x, panel);
            c.writePng(out);
            System.out.println("wrote " + out + " (" + c.width() + "x" + c.height() + "): columns = test images " + java.util.Arrays.toString(idx));
            System.out.println("  row 1: the binarised images");
            for (int i = 0; i < labels.size(); i++) {
                System.out.println("  row " + (i + 2) + ": p(z|x) of " + labels.get(i));
            }
            return 0;
        }
    }

    @Command(name = "samples", header = "samples from the prior, test images and reconstructions (PNG)", sortOptions = false,
            description = {"Three mosaics side by side: decoder means of z drawn from the prior, the first grid^2 test images, "
                    + "and their reconstructions (decoder mean at the encoder mean)."})
    static final class Samples implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--checkpoint", paramLabel = "DIR", required = true, description = "the training run folder")
        Path dir;

        @Option(names = "--out", paramLabel = "FILE.png", required = true, description = "the PNG file to write")
        Path out;

        @Option(names = "--grid", paramLabel = "N", defaultValue = "8",
                description = "N x N images per mosaic, 1-32; default: ${DEFAULT-VALUE}")
        int grid;

        @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
                description = "seed of the prior samples and the binarisation; default: ${DEFAULT-VALUE}")
        long seed;

        @Mixin
        DataDirOption dataDir;

        @Override
        public Integer call() throws Exception {
            checkPng(spec, out);
            if (grid < 1 || grid > 32) {
                throw new ParameterException(spec.commandLine(), "--grid must be between 1 and 32, got " + grid);
            }
            Checkpoint.Loaded run = Checkpoint.readModel(dir);
            Split data = Datasets.load(run.config().dataset(), dataDir.dir);
            int n = Math.min(grid * grid, data.test().count());
            int[] idx = java.util.stream.IntStream.range(0, n).toArray();
            Canvas c = Figures.samplesAndReconstructions(run.model(), binarized(data.test(), idx, seed), grid,
                    Streams.of(seed, Streams.EVAL, 3, 0));
            c.writePng(out);
            System.out.println("wrote " + out + " (" + c.width() + "x" + c.height() + "): samples from the prior | " + n
                    + " test images | reconstructions, " + run.config().label() + " epoch " + run.epoch());
            return 0;
        }
    }

    @Command(name = "plot", header = "learning curves of runs from their metrics.jsonl (PNG)", sortOptions = false,
            description = {"Learning curves from each run folder's metrics.jsonl, the runs overlaid: the held-out bound per "
                    + "epoch with the mean-image baseline, the training losses, and for AIWAE runs the HMC acceptance rate "
                    + "and step size per temperature step. (train writes RUN/curves.png itself at the end of a run.)"})
    static final class Plot implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "RUN", arity = "1..*", description = "training run folders")
        List<Path> runs;

        @Option(names = "--out", paramLabel = "FILE.png", required = true, description = "the PNG file to write")
        Path out;

        @Override
        public Integer call() throws Exception {
            checkPng(spec, out);
            List<RunCurves> curves = new ArrayList<>();
            for (Path dir : runs) {
                curves.add(readRun(dir));
            }
            LearningCurves.write(curves, out);
            int[] size = LearningCurves.size(curves);
            System.out.println("wrote " + out + " (" + size[0] + "x" + size[1] + "): learning curves of " + curves.size()
                    + (curves.size() == 1 ? " run" : " runs"));
            return 0;
        }
    }

    /** A run folder's curves; a missing folder or metrics file is the user's to fix (one line, exit 2). */
    static RunCurves readRun(Path dir) {
        try {
            return RunCurves.read(dir);
        } catch (IllegalArgumentException e) {
            throw new AiwaeException(e.getMessage());
        }
    }

    /** The figure's file must end in .png and its folder exist. */
    static void checkPng(CommandSpec spec, Path out) {
        if (!out.getFileName().toString().toLowerCase().endsWith(".png")) {
            throw new ParameterException(spec.commandLine(), "give the figure's file with --out FILE.png, got " + out);
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new ParameterException(spec.commandLine(), "--out: folder " + parent + " does not exist");
        }
    }

    private static Tensor binarized(Images images, int[] idx, long seed) {
        return Binarizer.sample(images.gather(idx, 0, idx.length), Streams.of(seed, Streams.EVAL_DATA, 3, 0));
    }

    static int[] checkIndices(CommandSpec spec, int[] idx, int count) {
        for (int i : idx) {
            if (i < 0 || i >= count) {
                throw new ParameterException(spec.commandLine(), "--images: index " + i + " is outside the test set (0.." + (count - 1) + ")");
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
