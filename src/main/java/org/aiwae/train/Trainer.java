package org.aiwae.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.aiwae.AiwaeException;
import org.aiwae.FaultInjector;
import org.aiwae.data.Binarizer;
import org.aiwae.data.Images;
import org.aiwae.data.Split;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.optim.Adam;
import org.aiwae.eval.Bounds;
import org.aiwae.eval.MeanImageBaseline;
import org.aiwae.eval.Sample;
import org.aiwae.io.Json;
import org.aiwae.io.Progress;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.MlpVae;
import org.aiwae.objective.Objective;

/**
 * Trains a latent-variable model (the paper's by default) with VAE, IWAE or AIWAE: one pass over the shuffled, dynamically
 * binarised training set per epoch, one Adam optimiser for the encoder and one for the decoder,
 * then a held-out bound, a metrics line and a checkpoint ({@link Checkpoints}).
 *
 * <p>Divergence: a minibatch whose loss is not finite, or an epoch that ends with a NaN or an
 * infinity anywhere in the parameters, the optimisers' moments or the objective's state, is never
 * checkpointed. The epoch is retrained from the last good checkpoint with fresh random streams, at
 * most {@value RestartPolicy#MAX_RESTARTS} times, each restart recorded as a line of {@code metrics.jsonl};
 * then the run stops with an error, the last good checkpoint intact.
 */
public final class Trainer {
    private final TrainConfig config;
    private final Images train;
    private final Backend backend;
    private final Path out;
    private final boolean resume;
    private final PrintStream log;
    private final LatentVariableModel model;
    private final Objective objective;
    private final Adam gen;
    private final Adam inf;
    private final TrainingStep step;
    private final Tensor heldOut;
    /** The held-out images where the model lives. */
    private final Tensor heldOutThere;
    private final double meanImageBound;
    private final Checkpoint initial;
    private int epoch;
    private List<String> metrics = List.of();
    private TrainHooks hooks = TrainHooks.NONE;
    private boolean fromLastGood;

    /**
     * Prepares a run of the paper's model ({@link MlpVae} with the configuration's hidden and latent sizes, as many
     * inputs as the images have pixels, initialised from the run's seed); nothing is read or written until
     * {@link #run}. With {@code resume}, {@link #run} continues the newest checkpoint of {@code out} (or epoch 0 if
     * none was published); otherwise {@code out} must not exist.
     */
    public Trainer(TrainConfig config, Split data, Backend backend, Path out, boolean resume, PrintStream log) {
        // initialised on the host from its Philox stream (the same numbers on every backend), then moved
        this(config, data, ModelRecipe.PAPER.create(config, data.train().dim()), backend, out, resume, log);
    }

    /**
     * Prepares a run of {@code model}, any {@link LatentVariableModel} over images of {@code data}'s size (its
     * {@code dataDim()}), moved to {@code backend}; its {@code namedParameters} name the checkpoint's tensors. The
     * configuration's method, objective, schedule, batch size and seed apply; its hidden and latent sizes describe
     * the paper's model only.
     */
    public Trainer(TrainConfig config, Split data, LatentVariableModel model, Backend backend, Path out, boolean resume,
                   PrintStream log) {
        this.config = config;
        this.train = config.trainLimit() > 0 ? data.train().limit(config.trainLimit()) : data.train();
        this.backend = backend;
        this.out = out;
        this.resume = resume;
        this.log = log;
        if (config.batchSize() > train.count()) {
            throw new IllegalArgumentException("batch_size " + config.batchSize() + " is larger than the " + train.count()
                    + " training images");
        }
        if (model.dataDim() != train.dim()) {
            throw new AiwaeException("the model expects " + model.dataDim() + " pixels per image, the data has " + train.dim());
        }
        this.model = model.to(backend);
        this.objective = TrainingStep.objective(config, backend);
        this.step = new TrainingStep(this.model, objective);
        this.gen = step.generative();
        this.inf = step.inference();
        Images test = data.test().limit(config.evalImages());
        this.heldOut = Binarizer.sample(test.slice(0, test.count()), TrainingStreams.of(config.seed(), TrainingStreams.EVAL_DATA, 0, 0));
        this.heldOutThere = heldOut.to(backend);
        // what a model that ignores z reaches on the same images: the reference for test_bound
        this.meanImageBound = MeanImageBaseline.logLikelihood(train, heldOut);
        this.initial = checkpoint(0, List.of());
    }

    /**
     * With resume: when the newest checkpoint is damaged (a missing or corrupt {@code LATEST}, a file
     * that cannot be read), continue from the newest intact one, or from the initial weights if there
     * is none, saying so; without this such a run folder is refused.
     */
    public Trainer resumeFromLastGood() {
        this.fromLastGood = true;
        return this;
    }

    /** Installs test hooks (package-private: for crash and divergence tests only). */
    Trainer hooks(TrainHooks h) {
        this.hooks = h;
        return this;
    }

    TrainingStep step() {
        return step;
    }

    /** Whether a device records each minibatch shape's step once and replays it ({@link TrainingStep#graphs}); on by default. */
    public Trainer graphs(boolean on) {
        step.graphs(on);
        return this;
    }

    LatentVariableModel model() {
        return model;
    }

    /** Finished epochs. */
    int epoch() {
        return epoch;
    }

    /**
     * Takes the folder's lock, restores the newest checkpoint when resuming, and trains to
     * {@code config.epochs()}, publishing a checkpoint after every epoch.
     */
    public void run() throws IOException {
        if (!resume) {
            RunFolder.create(out, config);
        }
        try (RunLock ignored = RunLock.acquire(out)) {
            hooks.probe("locked");
            if (resume) {
                java.util.function.Consumer<String> note = m -> log.println("aiwae: " + m);
                Checkpoint s = fromLastGood ? CheckpointReader.readLastGood(out, note) : CheckpointReader.readLatest(out, note);
                apply(s == null ? initial : s); // checks everything before anything is written
                if (epoch > config.epochs()) {
                    throw new AiwaeException(out + " has finished " + epoch + " epochs; a run is never shortened, so it cannot "
                            + "become " + config.epochs() + " epochs long (give --epochs " + epoch + " or more)");
                }
                RunFolder.writeConfig(out, config);
                if (fromLastGood) {
                    Checkpoints.pointAt(out, epoch);
                }
                CheckpointRepair.repair(out);
            }
            log.printf("aiwae: training %s on %s (%d train images, batch %d, %d epochs, %s schedule, backend %s) -> %s%n",
                    config.label(), config.dataset(), train.count(), config.batchSize(), config.epochs(), config.scheduleLabel(),
                    backend.name(), out);
            if (epoch >= config.epochs()) {
                log.println("aiwae: " + out + " already holds " + epoch + " epochs; nothing to do");
            }
            try {
                while (epoch < config.epochs()) {
                    trainAndPublish();
                }
            } finally {
                step.close();
            }
        }
    }

    /** What one attempt at an epoch gave: a metrics line and timings, or the reason it diverged. */
    /** An epoch's outcome: its metrics line and the state it ended in, or why it diverged. */
    private record Attempt(EpochMetrics line, Checkpoint state, double seconds, double boundSeconds, String diverged) {
        static Attempt diverged(String why) {
            return new Attempt(null, null, 0, 0, why);
        }
    }

    private void trainAndPublish() {
        int e = epoch;
        List<String> restarts = new ArrayList<>();
        for (int attempt = 0; ; attempt++) {
            Attempt a = trainEpoch(e, attempt);
            if (a.diverged() == null) {
                List<String> lines = new ArrayList<>(metrics);
                lines.addAll(restarts);
                lines.add(Json.write(a.line()));
                Checkpoint s = a.state().withMetrics(lines);
                // the timing first: a kill right after the checkpoint is published must not lose it (a resume drops
                // the line again if the checkpoint was not published)
                EpochTiming t = new EpochTiming(e + 1, attempt + 1, a.seconds(), train.count() / a.seconds(), a.boundSeconds(),
                        Instant.now().toString());
                RunFolder.appendTiming(out, Json.write(t));
                CheckpointWriter.publish(out, config, s, point -> hooks.probe((e + 1) + "/" + point));
                FaultInjector.reach(new FaultInjector.Point.Published(out, e + 1));
                epoch = e + 1;
                metrics = s.metrics();
                return;
            }
            RestartEvent r = RestartPolicy.after(e, attempt, a.diverged());
            restarts.add(Json.write(r));
            log.println(RestartPolicy.describe(r));
            Checkpoint good = e == 0 ? initial : CheckpointReader.readLatest(out);
            if (good == null || good.epoch() != e) {
                throw new AiwaeException(out + ": the last good checkpoint is not epoch " + e + "; another process wrote here");
            }
            apply(good);
        }
    }

    private Attempt trainEpoch(int e, int attempt) {
        long seed = config.seed();
        double lr = config.learningRate(e);
        int n = train.count(), b = config.batchSize();
        int batches = (n + b - 1) / b;
        int[] perm = TrainingStreams.permutation(n, TrainingStreams.of(seed, TrainingStreams.SHUFFLE, e, 0, attempt));
        Progress bar = new Progress(log, String.format("epoch %d/%d%s", e + 1, config.epochs(),
                attempt > 0 ? " (attempt " + (attempt + 1) + ")" : ""), n);
        StepTotals totals = StepTotals.on(backend, batches);
        long seen = 0;
        for (int i = 0; i < batches; i++) {
            int from = i * b, to = Math.min(n, from + b);
            Tensor x = Binarizer.sample(train.gather(perm, from, to), TrainingStreams.of(seed, TrainingStreams.BINARIZE, e, i, attempt));
            Objective.StepResult r = step.run(x, TrainingStreams.of(seed, TrainingStreams.STEP, e, i, attempt), lr); // uploaded by the step
            totals.add(r, to - from);
            long done = seen + to - from;
            if (totals.diverged() == null) { // on a device the losses are read only when the line is drawn
                bar.update(done, () -> String.format("%.1f ex/s loss %.3f", done / bar.seconds(), totals.read().loss() / done));
            }
            if (totals.diverged() != null) {
                bar.finish(seen, "diverged");
                return Attempt.diverged(totals.diverged());
            }
            hooks.afterStep(this, e, attempt, i, batches);
            if (i == 0) {
                FaultInjector.reach(new FaultInjector.Point.EpochBegun(out, e + 1));
            }
            seen = done;
        }
        StepTotals.Sums sums = totals.read();
        if (sums.diverged() != null) {
            bar.finish(seen, "diverged");
            return Attempt.diverged(sums.diverged());
        }
        double lossSum = sums.loss(), encSum = sums.encoderLoss();
        double[] accSum = sums.acceptance();
        double trainSeconds = bar.seconds();
        Checkpoint state = checkpoint(e + 1, List.of()); // read back once: checked here, published by the caller
        String bad = state.firstNonFinite();
        if (bad != null) {
            bar.finish(n, "diverged");
            return Attempt.diverged("NaN or infinity in " + bad + " after the last minibatch");
        }
        double bound = Sample.of(Bounds.iwae(model, heldOutThere, config.evalSamples(), 50,
                TrainingStreams.of(seed, TrainingStreams.EVAL, e, 0))).mean();
        if (!Double.isFinite(bound)) {
            bar.finish(n, "diverged");
            return Attempt.diverged("held-out bound " + bound);
        }
        List<Double> acceptance = null;
        if (accSum != null) {
            acceptance = new ArrayList<>();
            for (double sum : accSum) {
                acceptance.add(sum / batches);
            }
        }
        List<Double> stepSizes = null;
        if (objective.temperatureSteps() > 0) {
            stepSizes = new ArrayList<>();
            for (float x : objective.stepSizes()) {
                stepSizes.add((double) x);
            }
        }
        EpochMetrics line = new EpochMetrics(e + 1, config.method(), lr, lossSum / n, encSum / n, bound, config.evalSamples(),
                heldOut.dim(0), meanImageBound, acceptance, stepSizes, attempt > 0 ? attempt + 1 : null);
        bar.finish(n, String.format("%.1f ex/s loss %.3f  L_%d(test) %.3f", n / trainSeconds, lossSum / n,
                config.evalSamples(), bound));
        return new Attempt(line, state, trainSeconds, bar.seconds() - trainSeconds, null);
    }

    /** The current state as a checkpoint of {@code epochs} finished epochs (copies, in a fixed order). */
    private Checkpoint checkpoint(int epochs, List<String> lines) {
        Map<String, Tensor> params = new LinkedHashMap<>();
        model.namedParameters().forEach((k, v) -> params.put(k, hostCopy(v.value())));
        Map<String, Tensor> state = new LinkedHashMap<>();
        moments().forEach((name, t) -> state.put(name, hostCopy(t)));
        new java.util.TreeMap<>(objective.state()).forEach((k, v) -> state.put(k, hostCopy(v)));
        return new Checkpoint(epochs, params, state, gen.steps(), inf.steps(), lines, null);
    }

    /** A copy in host memory (a device tensor is read back: a checkpoint is written from the host). */
    private static Tensor hostCopy(Tensor t) {
        return t.onHost() ? t.copy() : t.to(org.aiwae.engine.Placement.HOST);
    }

    /** Restores a checkpoint (or the initial state) into the model, the optimisers and the objective. */
    private void apply(Checkpoint s) {
        Path where = s.source() == null ? out : s.source();
        Path modelFile = where.resolve(RunFolder.MODEL), stateFile = where.resolve(RunFolder.STATE);
        TensorRestore.copyInto(model.namedParameters(), s.model(), modelFile);
        Map<String, Tensor> moments = moments(), own = objective.state();
        Set<String> stateNames = new HashSet<>(moments.keySet());
        stateNames.addAll(own.keySet());
        TensorRestore.onlyThese(stateNames, s.state(), stateFile);
        moments.forEach((name, t) -> TensorRestore.copyInto(name, t, s.state(), stateFile));
        for (String k : own.keySet()) {
            TensorRestore.copyInto(k, own.get(k).copy(), s.state(), stateFile); // checks presence, shape, finiteness
        }
        try {
            objective.loadState(s.state());
        } catch (IllegalArgumentException ex) {
            throw new AiwaeException(stateFile + ": " + ex.getMessage());
        }
        gen.restoreSteps(s.generativeSteps());
        inf.restoreSteps(s.inferenceSteps());
        epoch = s.epoch();
        metrics = s.metrics();
    }

    /** The Adam moments by their names in train-state.safetensors. */
    private Map<String, Tensor> moments() {
        return AdamState.moments(gen, inf, model.namedParameters());
    }
}
