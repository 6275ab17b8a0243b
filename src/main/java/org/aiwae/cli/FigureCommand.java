package org.aiwae.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.aiwae.AiwaeException;
import org.aiwae.data.Binarizer;
import org.aiwae.data.Images;
import org.aiwae.engine.Tensor;
import org.aiwae.model.MlpVae;
import org.aiwae.plot.Canvas;
import org.aiwae.plot.Figures;
import org.aiwae.plot.LearningCurves;
import org.aiwae.plot.RunCurves;
import org.aiwae.train.CheckpointReader;
import org.aiwae.train.TrainingStreams;
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

        @Mixin
        PngOut out;

        @Option(names = "--images", paramLabel = "I", split = ",",
                description = "test-image indices, comma-separated (e.g. 3,2,1); default: one image of each digit")
        int[] images;

        @Option(names = "--panel", paramLabel = "PIXELS", defaultValue = "112",
                description = "side of each panel, 28-1024 pixels; default: ${DEFAULT-VALUE}")
        int panel;

        @Mixin
        TestImages data;

        @Override
        public Integer call() throws Exception {
            out.check();
            Flags.between(spec, "--panel", panel, 28, 1024, "pixels");
            List<MlpVae> models = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            String dataset = null;
            for (Path d : dirs) {
                CheckpointReader.Loaded<MlpVae> run = RunArgument.model(d);
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
            Images test = data.test(dataset);
            int[] idx = images != null ? checkIndices(spec, images, test.count()) : onePerDigit(test);
            out.write(Figures.posterior(models, data.binarized(test, idx), panel), "columns = test images " + Arrays.toString(idx));
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

        @Mixin
        PngOut out;

        @Option(names = "--grid", paramLabel = "N", defaultValue = "8",
                description = "N x N images per mosaic, 1-32; default: ${DEFAULT-VALUE}")
        int grid;

        @Mixin
        TestImages data;

        @Override
        public Integer call() throws Exception {
            out.check();
            Flags.between(spec, "--grid", grid, 1, 32, "");
            CheckpointReader.Loaded<MlpVae> run = RunArgument.model(dir);
            Images test = data.test(run.config().dataset());
            int n = Math.min(grid * grid, test.count());
            int[] idx = IntStream.range(0, n).toArray();
            out.write(Figures.samplesAndReconstructions(run.model(), data.binarized(test, idx), grid,
                    TrainingStreams.of(data.seed, TrainingStreams.EVAL, 3, 0)), "samples from the prior | " + n
                    + " test images | reconstructions, " + run.config().label() + " epoch " + run.epoch());
            return 0;
        }
    }

    @Command(name = "plot", header = "learning curves of runs from their metrics.jsonl (PNG)", sortOptions = false,
            description = {"Learning curves from each run folder's metrics.jsonl, the runs overlaid: the held-out bound per "
                    + "epoch with the mean-image baseline, the training losses, and for AIWAE runs the HMC acceptance rate "
                    + "and step size per temperature step. (train writes RUN/curves.png itself at the end of a run.)"})
    static final class Plot implements Callable<Integer> {
        @Parameters(paramLabel = "RUN", arity = "1..*", description = "training run folders")
        List<Path> runs;

        @Mixin
        PngOut out;

        @Override
        public Integer call() throws Exception {
            out.check();
            List<RunCurves> curves = new ArrayList<>();
            for (Path dir : runs) {
                curves.add(RunArgument.curves(dir));
            }
            LearningCurves.write(curves, out.file);
            int[] size = LearningCurves.size(curves);
            out.wrote(size[0], size[1], "learning curves of " + curves.size() + (curves.size() == 1 ? " run" : " runs"));
            return 0;
        }
    }

    /** {@code --out FILE.png} of every figure command: checked before anything is read. A picocli mixin. */
    static final class PngOut {
        @Spec(Spec.Target.MIXEE)
        CommandSpec spec;

        @Option(names = "--out", paramLabel = "FILE.png", required = true, description = "the PNG file to write")
        Path file;

        /** The file must end in .png and its folder exist. */
        void check() {
            Path name = file.getFileName();
            if (name == null || !name.toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
                throw new ParameterException(spec.commandLine(), "give the figure's file with --out FILE.png, got " + file);
            }
            OutPath.file(spec, "--out", file);
        }

        /** Writes {@code c} and says so on stdout. */
        void write(Canvas c, String what) throws IOException {
            c.writePng(file);
            wrote(c.width(), c.height(), what);
        }

        void wrote(int width, int height, String what) {
            System.out.println("wrote " + file + " (" + width + "x" + height + "): " + what);
        }
    }

    /**
     * {@code --seed} and {@code --data-dir} of the figures drawn on test images: where the images are
     * and the seed of their binarisation (and of the prior samples). A picocli mixin.
     */
    static final class TestImages {
        @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
                description = "random seed of the test images' binarisation (and of samples' prior draws); default: ${DEFAULT-VALUE}")
        long seed;

        @Mixin
        DataDirOption dataDir;

        Images test(String dataset) {
            return dataDir.load(dataset).test();
        }

        Tensor binarized(Images images, int[] idx) {
            return Binarizer.sample(images.gather(idx, 0, idx.length), TrainingStreams.of(seed, TrainingStreams.EVAL_DATA, 3, 0));
        }
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
            return IntStream.range(0, Math.min(10, test.count())).toArray();
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
