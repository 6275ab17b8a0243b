package org.aiwae.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.aiwae.AiwaeException;
import org.aiwae.data.Datasets;
import org.aiwae.data.Split;
import org.aiwae.engine.backend.Backend;
import org.aiwae.io.Json;
import org.aiwae.train.Checkpoint;
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
                "Defaults: the embedded MNIST subset, aiwae with K=5 T=5 L=5, the paper's batch size, 20 epochs on the "
                        + "embedded data and the paper's 3,280-epoch schedule on the others."})
final class TrainCommand implements Callable<Integer> {
    /** Flags that --resume may change; every other flag must equal the run's config.json. */
    static final Set<String> CHANGEABLE_ON_RESUME = Set.of("--resume", "--out", "--epochs", "--schedule", "--backend", "--data-dir");

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--epochs", paramLabel = "N",
            description = "run length: the paper's eight learning rates in equal shares of N epochs; default: 20 on embedded, "
                    + "--schedule paper otherwise")
    Integer epochs;

    @Option(names = "--schedule", paramLabel = "SCHEDULE",
            description = "paper: Appendix A's 3,280 epochs exactly; short: the same rates over --epochs N")
    TrainSchedule schedule;

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
                    + "configuration, except --epochs, --schedule, --backend and --data-dir")
    boolean resume;

    @Mixin
    BackendOption backend;

    @Mixin
    DataDirOption dataDir;

    @Override
    public Integer call() throws Exception {
        TrainConfig config = resume ? resumed() : fresh();
        Backend b = BackendOption.use(config.backend());
        Split data = Datasets.load(config.dataset(), dataDir.dir);
        Trainer trainer = ModelOptions.checked(spec, () -> new Trainer(config, data, b, out, resume, System.err));
        trainer.run(); // says what it trains once it holds the folder's lock
        System.out.println(out);
        return 0;
    }

    private TrainConfig fresh() {
        boolean embedded = model.dataset.equals("embedded");
        TrainConfig base = model.config(spec, embedded ? 20 : TrainSchedule.PAPER_EPOCHS,
                embedded ? TrainSchedule.SHORT : TrainSchedule.PAPER, backend.name, evalSamples, evalImages);
        TrainConfig config = withLength(base);
        if (out == null) {
            String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
            out = Path.of("runs", stamp + "-" + config.dataset() + "-" + config.label().replace(" ", "").replace("=", "").toLowerCase());
        }
        if (Files.exists(out)) {
            throw new AiwaeException("output folder " + out + " already exists; pass --resume to continue it or choose another --out");
        }
        return config;
    }

    /** The run's config.json; flags equal to it are accepted, conflicting ones refused by name. */
    private TrainConfig resumed() {
        if (out == null) {
            throw new ParameterException(spec.commandLine(), "--resume needs --out DIR, the run folder to continue");
        }
        TrainConfig config = Checkpoint.readConfig(out);
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
                        + " in " + out.resolve(Checkpoint.CONFIG) + "; --resume may change only --epochs, --schedule, --backend and --data-dir");
            }
        }
        config = withLength(config);
        String chosen = spec.commandLine().getParseResult().hasMatchedOption("--backend") ? backend.name : config.backend();
        return config.withBackend(chosen);
    }

    private TrainConfig withLength(TrainConfig c) {
        if (epochs != null && schedule == TrainSchedule.PAPER) {
            throw new ParameterException(spec.commandLine(), "give either --epochs N or --schedule paper, not both");
        }
        if (schedule == TrainSchedule.PAPER) {
            return c.withEpochs(TrainSchedule.PAPER_EPOCHS, TrainSchedule.PAPER);
        }
        if (epochs != null || schedule == TrainSchedule.SHORT) {
            int n = epochs != null ? epochs : c.schedule() == TrainSchedule.SHORT ? c.epochs() : 20;
            return ModelOptions.checked(spec, () -> c.withEpochs(n, TrainSchedule.SHORT));
        }
        return c;
    }
}
