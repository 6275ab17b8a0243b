package org.aiwae.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.aiwae.AiwaeException;
import org.aiwae.data.Binarizer;
import org.aiwae.data.Images;
import org.aiwae.data.Split;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.optim.Adam;
import org.aiwae.eval.Bounds;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;
import org.aiwae.io.Progress;
import org.aiwae.model.MlpVae;
import org.aiwae.objective.Aiwae;
import org.aiwae.objective.Objective;

/**
 * Trains the paper's model with VAE, IWAE or AIWAE: one pass over the shuffled, dynamically
 * binarised training set per epoch, one Adam optimiser for the encoder and one for the decoder,
 * then a held-out bound, a metrics line and a checkpoint.
 */
public final class Trainer {
    private final TrainConfig config;
    private final Images train;
    private final Path out;
    private final PrintStream log;
    private final MlpVae model;
    private final Objective objective;
    private final Adam gen;
    private final Adam inf;
    private final TrainingStep step;
    private final Tensor heldOut;
    private int epoch;
    private final List<String> metrics = new ArrayList<>();

    /**
     * Prepares a run; nothing is written until {@link #run}. With {@code resume}, restores the
     * model, optimisers, step sizes and metrics from {@code out}.
     */
    public Trainer(TrainConfig config, Split data, Backend backend, Path out, boolean resume, PrintStream log) {
        this.config = config;
        this.train = config.trainLimit() > 0 ? data.train().limit(config.trainLimit()) : data.train();
        this.out = out;
        this.log = log;
        if (config.batchSize() > train.count()) {
            throw new IllegalArgumentException("batch_size " + config.batchSize() + " is larger than the " + train.count()
                    + " training images");
        }
        if (data.train().dim() != 784) {
            throw new AiwaeException("the model expects 784 pixels per image, the data has " + data.train().dim());
        }
        this.model = MlpVae.create(train.dim(), config.hidden(), config.latent(), Streams.of(config.seed(), Streams.INIT, 0, 0));
        this.objective = TrainingStep.objective(config, backend);
        this.step = new TrainingStep(model, objective);
        this.gen = step.generative();
        this.inf = step.inference();
        Images test = data.test().limit(config.evalImages());
        this.heldOut = Binarizer.sample(test.slice(0, test.count()), Streams.of(config.seed(), Streams.EVAL_DATA, 0, 0));
        if (resume) {
            restore();
        }
    }

    private void restore() {
        Checkpoint.Loaded loaded = Checkpoint.readModel(out);
        model.namedParameters().forEach((k, v) -> v.value().copyFrom(loaded.model().namedParameters().get(k).value()));
        float[] sizes = objective instanceof Aiwae a ? a.stepSizes().toArray() : null;
        epoch = Checkpoint.readState(out, model.namedParameters(), gen, inf, sizes);
        if (epoch != loaded.epoch()) {
            throw new AiwaeException(out + ": model is at epoch " + loaded.epoch() + " but the training state at " + epoch);
        }
        if (objective instanceof Aiwae a) {
            a.stepSizes().load(sizes);
        }
        try {
            Path m = out.resolve(Checkpoint.METRICS);
            if (Files.isRegularFile(m)) {
                for (String line : Files.readAllLines(m)) {
                    if (!line.isBlank() && metrics.size() < epoch) {
                        metrics.add(line);
                    }
                }
            }
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + out.resolve(Checkpoint.METRICS) + ": " + e.getMessage());
        }
    }

    /** Trains from the current epoch to {@code config.epochs()}, checkpointing after every epoch. */
    public void run() throws IOException {
        Files.createDirectories(out);
        Checkpoint.writeConfig(out, config);
        if (epoch >= config.epochs()) {
            log.println("aiwae: " + out + " already holds " + epoch + " epochs; nothing to do");
        }
        while (epoch < config.epochs()) {
            runEpoch();
        }
    }

    private void runEpoch() throws IOException {
        int e = epoch;
        double lr = config.learningRate(e);
        int n = train.count(), b = config.batchSize();
        int batches = (n + b - 1) / b;
        int[] perm = Streams.permutation(n, Streams.of(config.seed(), Streams.SHUFFLE, e, 0));
        Progress bar = new Progress(log, String.format("epoch %d/%d", e + 1, config.epochs()), n);
        double lossSum = 0, encSum = 0;
        double[] accSum = null;
        long seen = 0;
        for (int i = 0; i < batches; i++) {
            int from = i * b, to = Math.min(n, from + b);
            Tensor x = Binarizer.sample(train.gather(perm, from, to), Streams.of(config.seed(), Streams.BINARIZE, e, i));
            Objective.StepResult r = step.run(x, Streams.of(config.seed(), Streams.STEP, e, i), lr);
            if (!Double.isFinite(r.loss()) || !Double.isFinite(r.encoderLoss())) {
                throw new AiwaeException("training diverged at epoch " + (e + 1) + ", minibatch " + (i + 1)
                        + " (loss " + r.loss() + "); try a smaller learning rate schedule or another seed");
            }
            lossSum += r.loss() * (to - from);
            encSum += r.encoderLoss() * (to - from);
            if (r.acceptance().length > 0) {
                if (accSum == null) {
                    accSum = new double[r.acceptance().length];
                }
                for (int t = 0; t < accSum.length; t++) {
                    accSum[t] += r.acceptance()[t];
                }
            }
            seen += to - from;
            bar.update(seen, String.format("%.1f ex/s loss %.3f", seen / bar.seconds(), lossSum / seen));
        }
        double trainSeconds = bar.seconds();
        double bound = Bounds.mean(Bounds.iwae(model, heldOut, config.evalSamples(), 50,
                Streams.of(config.seed(), Streams.EVAL, e, 0)));
        epoch = e + 1;
        List<Double> acceptance = null, stepSizes = null;
        if (objective instanceof Aiwae a) {
            acceptance = new ArrayList<>();
            for (double sum : accSum) {
                acceptance.add(sum / batches);
            }
            stepSizes = new ArrayList<>();
            for (float s : a.stepSizes().toArray()) {
                stepSizes.add((double) s);
            }
        }
        EpochMetrics line = new EpochMetrics(epoch, config.method(), lr, lossSum / n, encSum / n, bound, config.evalSamples(),
                heldOut.dim(0), acceptance, stepSizes, n / trainSeconds, trainSeconds);
        metrics.add(Json.write(line));
        bar.finish(n, String.format("%.1f ex/s loss %.3f  L_%d(test) %.3f", n / trainSeconds, lossSum / n,
                config.evalSamples(), bound));
        Checkpoint.writeModel(out, model, config, epoch);
        Checkpoint.writeState(out, model.namedParameters(), gen, inf,
                objective instanceof Aiwae a ? a.stepSizes().toArray() : null, epoch);
        AtomicFiles.writeString(out.resolve(Checkpoint.METRICS), String.join("\n", metrics) + "\n");
    }
}
