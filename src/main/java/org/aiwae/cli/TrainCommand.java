package org.aiwae.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.aiwae.AiwaeException;
import org.aiwae.data.Split;
import org.aiwae.engine.backend.Backend;
import org.aiwae.io.Json;
import org.aiwae.plot.LearningCurves;
import org.aiwae.plot.RunCurves;
import org.aiwae.train.DamagedCheckpoint;
import org.aiwae.train.RunFolder;
import org.aiwae.train.TrainConfig;
import org.aiwae.train.TrainSchedule;
import org.aiwae.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code aiwae train}: trains a model and writes a run folder. */
@Command(name = "train", header = "train a VAE, IWAE or AIWAE model", sortOptions = false,
        description = {"Trains a VAE, IWAE or AIWAE model and writes a run folder (config.json, model.safetensors, "
                + "train-state.safetensors, metrics.jsonl), checkpointed after every epoch.",
                "Defaults: the embedded MNIST subset and aiwae with K=5 T=5 L=5; on the embedded data a run of about two "
                        + "minutes (20 epochs, batch 20, learning rate from 0.003), on the others the paper's 3,280-epoch "
                        + "schedule and batch size. Ends with RUN/curves.png and the commands to run next."})
final class TrainCommand implements Callable<Integer> {
    /** The default run on the embedded 2,000 images (docs/training.md): 20 epochs, batch 20, starting at 3e-3. */
    static final int EMBEDDED_EPOCHS = 20;
    static final double EMBEDDED_LEARNING_RATE = 3e-3;

    /** The learning curves train writes at the end of a run. */
    static final String CURVES = "curves.png";

    /** Flags that --resume may change; every other flag must equal the run's config.json. */
    static final Set<String> CHANGEABLE_ON_RESUME = Set.of("--resume", "--out", "--epochs", "--schedule", "--budget", "--backend", "--data-dir",
            "--resume-if-started", "--resume-from-last-good");

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--epochs", paramLabel = "N",
            description = "run length: the paper's eight learning rates in equal shares of N epochs; default: 20 on embedded, "
                    + "--schedule paper otherwise")
    Integer epochs;

    @Option(names = "--schedule", paramLabel = "SCHEDULE",
            description = "paper: Appendix A's 3,280 epochs exactly (or --budget F of them); short: the same rates over --epochs N")
    TrainSchedule schedule;

    @Option(names = "--budget", paramLabel = "F",
            description = "with --schedule paper: run a fraction F in (0, 1] of it, each of its eight stages ceil(3^i F) "
                    + "epochs at its own rate (0.1: 332 epochs); default: 1")
    Double budget;

    @Option(names = "--learning-rate", paramLabel = "LR",
            description = "the schedule's first learning rate; every later rate scales with it; default: 0.003 on embedded "
                    + "(a short run on 2,000 images, see docs/training.md), the paper's 0.001 otherwise and with --schedule paper")
    Double learningRate;

    @Option(names = "--eval-samples", paramLabel = "K", defaultValue = "50",
            description = "k of the held-out bound L_k after each epoch; default: ${DEFAULT-VALUE}")
    int evalSamples;

    @Option(names = "--eval-images", paramLabel = "N", defaultValue = "100",
            description = "test images for that held-out bound; default: ${DEFAULT-VALUE}")
    int evalImages;

    @Option(names = "--out", paramLabel = "DIR",
            description = "the run folder; must not exist unless --resume; default: runs/<time>-<dataset>-<method>")
    Path out;

    @Option(names = "--resume",
            description = "continue the run in --out DIR from its last complete epoch; other flags must equal the run's "
                    + "configuration, except --epochs, --schedule, --budget, --backend and --data-dir")
    boolean resume;

    @Option(names = "--resume-if-started",
            description = "--resume when --out already holds a run (its config.json), else a fresh run (for scripts and grid tasks)")
    boolean resumeIfStarted;

    @Option(names = "--resume-from-last-good",
            description = "--resume, and when the newest checkpoint is damaged (a file that differs from its SHA-256 in "
                    + "SHA256SUMS, LATEST missing or corrupt) continue from the newest intact one, saying which; without it such a run is refused")
    boolean resumeFromLastGood;

    @Mixin
    GraphOption graph;

    @Mixin
    BackendOption backend;

    @Mixin
    DataDirOption dataDir;

    @Override
    public Integer call() throws Exception {
        resume |= resumeFromLastGood;
        if (out != null) {
            OutPath.folder(spec, "--out", out);
        }
        if (resumeIfStarted) {
            if (out == null) {
                throw new ParameterException(spec.commandLine(), "--resume-if-started needs --out DIR");
            }
            resume |= Files.isRegularFile(out.resolve(RunFolder.CONFIG));
        }
        TrainConfig config = resume ? resumed() : fresh();
        double seconds;
        try (Backend b = BackendOption.open(config.backend())) {
            Split data = dataDir.load(config.dataset());
            Trainer trainer = Flags.checked(spec, () -> new Trainer(config, data, b, out, resume, System.err)).graphs(graph.on());
            if (resumeFromLastGood) {
                trainer.resumeFromLastGood();
            }
            long start = System.nanoTime();
            try {
                trainer.run(); // says what it trains once it holds the folder's lock
            } catch (DamagedCheckpoint e) {
                throw new AiwaeException(e.getMessage() + "; pass --resume-from-last-good to continue from the newest intact "
                        + "checkpoint", e);
            }
            seconds = (System.nanoTime() - start) / 1e9;
        }
        summary(out, seconds);
        System.out.println(out);
        return 0;
    }

    /** Writes RUN/curves.png and says what the run reached, where its files are and what to run next. */
    private static void summary(Path out, double seconds) {
        RunCurves curves = RunArgument.curves(out);
        Path png = out.resolve(CURVES);
        String picture;
        try {
            LearningCurves.write(List.of(curves), png);
            picture = ", " + CURVES;
        } catch (IOException | RuntimeException | LinkageError e) { // the run is complete; a picture (or a runtime without java.desktop) must not fail it
            picture = "";
            System.err.println("aiwae: could not write " + png + ": " + e.getMessage());
        }
        int last = curves.epochs().length - 1;
        double bound = curves.testBound()[last], baseline = curves.meanImageBound();
        System.err.printf("aiwae: trained for %.0f s; after epoch %d %s = %.1f nats per image", seconds,
                (int) curves.epochs()[last], curves.boundLabel(), bound);
        if (!Double.isNaN(baseline)) {
            System.err.printf("; mean-image baseline %.1f (a model that ignores z): %.1f nats %s%n", baseline,
                    Math.abs(bound - baseline), bound > baseline ? "better" : "WORSE");
        } else {
            System.err.println();
        }
        System.err.println("  files in " + out + ": " + RunFolder.CONFIG + ", " + RunFolder.MODEL + ", " + RunFolder.METRICS
                + picture + ", " + RunFolder.TIMINGS + ", checkpoints/ (docs/training.md)");
        System.err.println("  next:");
        System.err.println("    bin/aiwae samples --checkpoint " + out + " --out " + out.resolve("samples.png")
                + "   # prior samples | test digits | reconstructions");
        System.err.println("    bin/aiwae eval --checkpoint " + out + " --limit 100 --nll-temperatures 500   # NLL by AIS, reduced");
        System.err.println("    bin/aiwae plot " + out + " OTHER_RUN... --out curves.png   # compare learning curves");
        System.err.println("    bin/aiwae train --resume --out " + out + " --epochs N   # train longer");
    }

    private TrainConfig fresh() {
        TrainConfig config = freshConfig();
        if (out == null) {
            String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
            out = Path.of("runs", stamp + "-" + config.dataset() + "-" + config.label().replace(" ", "").replace("=", "").toLowerCase());
        }
        if (Files.exists(out)) {
            throw new AiwaeException("output folder " + out + " already exists; pass --resume to continue it or choose another --out");
        }
        return config;
    }

    /** The configuration of a new run from these flags; a bad value is a ParameterException naming its flag. */
    TrainConfig freshConfig() {
        boolean embedded = model.dataset.equals("embedded");
        double lr = learningRate != null ? learningRate
                : embedded && schedule != TrainSchedule.PAPER ? EMBEDDED_LEARNING_RATE : TrainConfig.PAPER_LEARNING_RATE;
        TrainConfig base = model.config(spec, embedded ? EMBEDDED_EPOCHS : TrainSchedule.PAPER_EPOCHS,
                embedded ? TrainSchedule.SHORT : TrainSchedule.PAPER, backend.name, evalSamples, evalImages, lr);
        return withLength(base);
    }

    /** The run's config.json; flags equal to it are accepted, conflicting ones refused by name. */
    private TrainConfig resumed() {
        if (out == null) {
            throw new ParameterException(spec.commandLine(), "--resume needs --out DIR, the run folder to continue");
        }
        model.checkGiven(spec);
        TrainConfig config = RunFolder.readConfig(out);
        Map<String, Object> saved = Json.fields(config);
        for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
            String flag = o.longestName();
            if (CHANGEABLE_ON_RESUME.contains(flag)) {
                continue;
            }
            String field = flag.substring(2).replace('-', '_');
            String given = String.valueOf((Object) o.getValue()), was = String.valueOf(saved.get(field));
            if (!saved.containsKey(field) || !given.equals(was)) {
                throw new ParameterException(spec.commandLine(), flag + " " + given + " conflicts with the run's " + field + " " + was
                        + " in " + out.resolve(RunFolder.CONFIG) + "; --resume may change only --epochs, --schedule, --budget, --backend and --data-dir");
            }
        }
        config = withLength(config);
        String chosen = spec.commandLine().getParseResult().hasMatchedOption("--backend") ? backend.name : config.backend();
        return config.withBackend(chosen);
    }

    private TrainConfig withLength(TrainConfig c) {
        if (epochs != null && (schedule == TrainSchedule.PAPER || budget != null)) {
            throw new ParameterException(spec.commandLine(), "give either --epochs N or --schedule paper"
                    + (budget != null ? " --budget F" : "") + ", not both");
        }
        if (budget != null && (schedule == TrainSchedule.SHORT || schedule == null && c.schedule() != TrainSchedule.PAPER)) {
            throw new ParameterException(spec.commandLine(), "--budget is a fraction of --schedule paper; the run's schedule is "
                    + (schedule != null ? schedule : c.schedule()) + " (add --schedule paper)");
        }
        if (schedule == TrainSchedule.PAPER || budget != null) {
            double b = budget != null ? budget : c.schedule() == TrainSchedule.PAPER ? c.budget() : 1;
            return Flags.checked(spec, () -> c.withPaperSchedule(b));
        }
        if (epochs != null || schedule == TrainSchedule.SHORT) {
            int n = epochs != null ? epochs : c.schedule() == TrainSchedule.SHORT ? c.epochs() : EMBEDDED_EPOCHS;
            return Flags.checked(spec, () -> c.withEpochs(n, TrainSchedule.SHORT));
        }
        return c;
    }
}
