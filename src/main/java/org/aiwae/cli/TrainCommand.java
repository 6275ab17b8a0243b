package org.aiwae.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.Set;
import org.aiwae.AiwaeException;
import org.aiwae.data.Datasets;
import org.aiwae.data.Split;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.train.Checkpoint;
import org.aiwae.train.TrainConfig;
import org.aiwae.train.Trainer;

/** {@code aiwae train}: trains a model and writes a run folder. */
final class TrainCommand {
    static final String USAGE = """
            usage: aiwae train [--dataset embedded|mnist|fashion-mnist|omniglot] [--data-dir DIR]
                               [--method vae|iwae|aiwae] [--samples K] [--temperatures T] [--leapfrog L]
                               [--latent 50] [--hidden 200] [--batch-size B] [--epochs N | --schedule paper]
                               [--train-limit N] [--seed S] [--backend cpu|opencl|cuda|auto] [--out DIR] [--resume]
                               [--eval-samples 50] [--eval-images 100]
              Defaults: the embedded MNIST subset, aiwae with K=5 T=5 L=5, batch 128 for aiwae and 20 otherwise,
              20 epochs on the embedded data and the paper's 3,280-epoch schedule on the others.""";
    static final Set<String> OPTIONS = Set.of("--dataset", "--data-dir", "--method", "--samples", "--temperatures",
            "--leapfrog", "--latent", "--hidden", "--batch-size", "--epochs", "--schedule", "--train-limit", "--seed",
            "--backend", "--out", "--eval-samples", "--eval-images");

    private TrainCommand() {}

    static int run(String[] argv) throws Exception {
        Args a = new Args("train", argv, 1, OPTIONS, Set.of("--resume"));
        if (!a.positional().isEmpty()) {
            throw new AiwaeException("train: unexpected argument '" + a.positional().get(0) + "'");
        }
        boolean resume = a.has("--resume");
        TrainConfig config;
        Path out;
        if (resume) {
            out = a.path("--out");
            if (out == null) {
                throw new AiwaeException("train --resume needs --out DIR, the run folder to continue");
            }
            Set<String> extra = new HashSet<>(a.given());
            extra.removeAll(Set.of("--resume", "--out", "--epochs", "--schedule", "--backend", "--data-dir"));
            if (!extra.isEmpty()) {
                throw new AiwaeException("train --resume takes its configuration from " + out.resolve(Checkpoint.CONFIG)
                        + "; only --epochs, --schedule, --backend and --data-dir may be given (got " + String.join(" ", extra) + ")");
            }
            config = Checkpoint.readConfig(out);
            if (a.has("--epochs") || a.has("--schedule")) {
                config = withLength(config, a);
            }
            if (a.has("--backend")) {
                config = config.withBackend(a.string("--backend", "cpu"));
            }
        } else {
            config = fromFlags(a);
            out = a.path("--out");
            if (out == null) {
                String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
                out = Path.of("runs", stamp + "-" + config.dataset() + "-" + config.label().replace(" ", "").replace("=", "").toLowerCase());
            }
            if (Files.exists(out)) {
                throw new AiwaeException("output folder " + out + " already exists; pass --resume to continue it or choose another --out");
            }
        }
        Backend backend = BackendChoice.resolve(config.backend());
        Backends.use(backend);
        Split data = Datasets.load(config.dataset(), a.path("--data-dir"));
        Trainer trainer = new Trainer(config, data, backend, out, resume, System.err);
        System.err.printf("aiwae: training %s on %s (%d train images, batch %d, %d epochs, %s schedule, backend %s) -> %s%n",
                config.label(), config.dataset(), config.trainLimit() > 0 ? Math.min(config.trainLimit(), data.train().count())
                        : data.train().count(), config.batchSize(), config.epochs(), config.schedule(), backend.name(), out);
        trainer.run();
        System.out.println(out);
        return 0;
    }

    static TrainConfig fromFlags(Args a) {
        String dataset = a.string("--dataset", "embedded");
        if (!Datasets.NAMES.contains(dataset)) {
            throw new AiwaeException("unknown dataset '" + dataset + "'; choose one of " + String.join(", ", Datasets.NAMES));
        }
        String method = a.string("--method", "aiwae");
        TrainConfig base = new TrainConfig(dataset, method, a.integer("--samples", 5), a.integer("--temperatures", 5),
                a.integer("--leapfrog", 5), a.integer("--latent", 50), a.integer("--hidden", 200),
                a.integer("--batch-size", TrainConfig.defaultBatch(method)),
                dataset.equals("embedded") ? 20 : TrainConfig.PAPER_EPOCHS, dataset.equals("embedded") ? "short" : "paper",
                a.integer("--train-limit", 0), a.longValue("--seed", 0), a.string("--backend", "cpu"),
                a.integer("--eval-samples", 50), a.integer("--eval-images", 100));
        return a.has("--epochs") || a.has("--schedule") ? withLength(base, a) : base;
    }

    private static TrainConfig withLength(TrainConfig c, Args a) {
        if (a.has("--epochs") && a.has("--schedule")) {
            throw new AiwaeException("train: give either --epochs N or --schedule paper, not both");
        }
        if (a.has("--schedule")) {
            String s = a.string("--schedule", "paper");
            if (!s.equals("paper")) {
                throw new AiwaeException("unknown schedule '" + s + "'; the only named schedule is 'paper' (or give --epochs N)");
            }
            return c.withEpochs(TrainConfig.PAPER_EPOCHS, "paper");
        }
        return c.withEpochs(a.integer("--epochs", 1), "short");
    }
}
