package org.aiwae.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.aiwae.AiwaeException;
import org.aiwae.FaultInjector;
import org.aiwae.data.Images;
import org.aiwae.data.Split;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.eval.Evaluator;
import org.aiwae.eval.ImageStreams;
import org.aiwae.eval.ResultsFile;
import org.aiwae.eval.ResultsFile.ImageResult;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;
import org.aiwae.io.Progress;
import org.aiwae.model.MlpVae;
import org.aiwae.engine.Shapes;
import org.aiwae.train.CheckpointStore;
import org.aiwae.train.RunLock;
import org.aiwae.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code aiwae eval}: NLL by AIS, NVLB, gaps and active units of a run folder. Per-image results
 * are appended to {@code eval-<split>.jsonl} in the output folder as they are computed (fsynced
 * per batch), so a killed evaluation continues with {@code --resume}; {@code eval.json} is then
 * written atomically from those files. Every image draws from its own random streams, so the
 * per-image results do not depend on batching, order, subset or resumption.
 */
@Command(name = "eval", header = "NLL by AIS, NVLB, gaps and active units of a run", sortOptions = false,
        description = {"NLL by AIS, NVLB, the variational and generalisation gaps and the active units of a run folder.",
                "The defaults are the paper's protocol (about 31 hours for MNIST on a 2-core CPU); the flags reduce it, "
                        + "and eval.json records what was used.",
                "Results go to --out (default: the checkpoint folder): eval-test.jsonl / eval-train.jsonl get one line per "
                        + "image as it is done (fsynced), eval.json is written at the end. An evaluation already there is "
                        + "continued with --resume (same protocol, seed and model, else refused) or replaced with --force."})
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", paramLabel = "DIR", required = true, description = "the training run folder to evaluate")
    Path dir;

    @Option(names = "--out", paramLabel = "DIR",
            description = "where eval.json and the per-image results go; default: the checkpoint folder")
    Path out;

    @Option(names = "--resume", description = "continue the evaluation in --out where it stopped (refused if its protocol, "
            + "seed, backend or model differ); images already done are not redone")
    boolean resume;

    @Option(names = "--force", description = "discard an evaluation already in --out and start over")
    boolean force;

    @Option(names = "--split", paramLabel = "SPLIT", defaultValue = "test", completionCandidates = Splits.class,
            description = "${COMPLETION-CANDIDATES}: the images evaluated (both also gives the generalisation gap); "
                    + "default: ${DEFAULT-VALUE}")
    String split;

    @Option(names = "--limit", paramLabel = "N",
            description = "evaluate only the first N images of each split (N >= 1); default: all")
    Integer limit;

    @Option(names = "--images", paramLabel = "A:B",
            description = "evaluate images A to B-1 of each split (a shard; per-image results equal the full run's)")
    String images;

    @Option(names = "--nll-chains", paramLabel = "N", defaultValue = "16",
            description = "AIS chains per image; default: ${DEFAULT-VALUE}")
    int chains;

    @Option(names = "--nll-temperatures", paramLabel = "T", defaultValue = "10000",
            description = "AIS inverse temperatures (2 to 10,000,000); default: ${DEFAULT-VALUE}")
    int temperatures;

    @Option(names = "--nll-leapfrog", paramLabel = "L", defaultValue = "10",
            description = "leapfrog steps per AIS HMC transition; default: ${DEFAULT-VALUE}")
    int leapfrog;

    @Option(names = "--nvlb-samples", paramLabel = "K", defaultValue = "5000",
            description = "k of the bound NVLB = -L_k; default: ${DEFAULT-VALUE}")
    int nvlbSamples;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "100",
            description = "images per batch (memory vs. speed; every image has its own random streams, so its result "
                    + "does not depend on the batch); default: ${DEFAULT-VALUE}")
    int batch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "random seed; default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--master", paramLabel = "URL",
            description = "evaluate in shards on Apache Spark: local[N] (N tasks in this process), spark://..., k8s://...; "
                    + "the merged results equal an unsharded evaluation's bit for bit")
    String master;

    @Option(names = "--shards", paramLabel = "S",
            description = "with --master: image ranges (Spark tasks) per split (S >= 1); default: the cluster's parallelism")
    Integer shards;

    @Option(names = "--conf", paramLabel = "KEY=VALUE",
            description = "with --master: a Spark setting, as spark-submit's --conf (repeatable; docs/cluster.md)")
    Map<String, String> conf = new LinkedHashMap<>();

    @Mixin
    BackendOption backendOption;

    @Mixin
    DataDirOption dataDir;

    static final class Splits extends java.util.ArrayList<String> {
        Splits() {
            super(List.of("test", "train", "both"));
        }
    }

    static final String REPORT = "eval.json";
    /** The most AIS temperatures (1,000 times the paper's 10,000; the schedule is held in memory). */
    static final int MAX_TEMPERATURES = 10_000_000;

    static String resultsName(String split) {
        return "eval-" + split + ".jsonl";
    }

    /**
     * What to evaluate and where: the flags of {@code aiwae eval}, checked.
     *
     * @param limit the first {@code limit} images, or 0 for all
     * @param range images A to B-1 ({@code {A, B}}), or null for the first {@code limit}
     */
    record Options(Path checkpoint, Path out, boolean resume, boolean force, List<String> splits, int limit, int[] range,
                   int chains, int temperatures, int leapfrog, int nvlbSamples, int batch, long seed, String backend,
                   Path dataDir, String master, int shards, Map<String, String> conf) {}

    @Override
    public Integer call() throws Exception {
        return run(options());
    }

    /** The checked flags; a bad value is a ParameterException naming its flag. */
    Options options() {
        if (!new Splits().contains(split)) {
            throw new ParameterException(spec.commandLine(), "--split: unknown split '" + split + "'; choose test, train or both");
        }
        if (limit != null) {
            Flags.atLeast(spec, "--limit", limit, 1); // absent is all; 0 is not a way to say so
        }
        Flags.atLeast(spec, "--nll-chains", chains, 1);
        Flags.between(spec, "--nll-temperatures", temperatures, 2, MAX_TEMPERATURES, "");
        Flags.atLeast(spec, "--nll-leapfrog", leapfrog, 1);
        Flags.atLeast(spec, "--nvlb-samples", nvlbSamples, 1);
        Flags.atLeast(spec, "--batch", batch, 1);
        checkSizes(spec, chains, batch, TrainConfig.PIXELS);
        if (shards != null) {
            Flags.atLeast(spec, "--shards", shards, 1);
            if (master == null) {
                throw new ParameterException(spec.commandLine(), "--shards needs --master (e.g. --master local[2])");
            }
        }
        if (!conf.isEmpty() && master == null) {
            throw new ParameterException(spec.commandLine(), "--conf needs --master (Spark settings)");
        }
        if (master != null && backendOption.name.equals("auto")) {
            throw new ParameterException(spec.commandLine(), "--backend auto with --master would let each executor choose; pass cpu, "
                    + "opencl or cuda");
        }
        GridCommand.sparkSettings(spec, conf);
        if (resume && force) {
            throw new ParameterException(spec.commandLine(), "--resume continues an evaluation and --force discards it; pass one");
        }
        int[] range = imageRange(images);
        if (range != null && limit != null) {
            throw new ParameterException(spec.commandLine(), "pass --limit N or --images A:B, not both");
        }
        Path where = out == null ? dir : OutPath.folder(spec, "--out", out);
        return new Options(dir, where, resume, force,
                split.equals("both") ? List.of("test", "train") : List.of(split), limit == null ? 0 : limit, range, chains,
                temperatures, leapfrog, nvlbSamples, batch, seed, backendOption.name, dataDir.dir, master, shards == null ? 0 : shards,
                Map.copyOf(conf));
    }

    /**
     * The AIS chains of a batch are tensors of chains x images rows of the model's widest layer ({@code widest}
     * units); each must fit in one array. The message names --nll-chains or --batch, whichever is larger.
     */
    static void checkSizes(CommandSpec spec, long chains, long batch, long widest) {
        long n = Shapes.elements(chains, batch, widest);
        if (n > Shapes.MAX_ELEMENTS) {
            String which = chains >= batch ? "--nll-chains " + chains + " x --batch " + batch : "--batch " + batch + " x --nll-chains " + chains;
            String message = which + " x " + widest + " units = " + n + " values in one tensor of the AIS chains; one tensor holds "
                    + "at most " + Shapes.MAX_ELEMENTS + "; lower them";
            throw spec == null ? new AiwaeException(message) : new ParameterException(spec.commandLine(), message);
        }
    }

    /** {@code A:B} (images A to B-1 of the split), or null when not given. */
    private int[] imageRange(String s) {
        if (s == null) {
            return null;
        }
        String[] p = s.split(":", -1);
        try {
            if (p.length == 2) {
                int from = Integer.parseInt(p[0].trim()), to = Integer.parseInt(p[1].trim());
                if (from >= 0 && to > from) {
                    return new int[] {from, to};
                }
            }
        } catch (NumberFormatException ignored) {
            // the message below
        }
        throw new ParameterException(spec.commandLine(), "--images must be A:B with 0 <= A < B (images A to B-1), got '" + s + "'");
    }

    static int run(Options o) throws Exception {
        CheckpointStore.Loaded run = RunArgument.model(o.checkpoint());
        Split data = DataDirOption.load(run.config().dataset(), o.dataDir());
        Map<String, int[]> chosen = new LinkedHashMap<>();
        for (String s : o.splits()) {
            chosen.put(s, indices(images(data, s), s, o.limit(), o.range()));
        }
        TrainConfig c = run.config();
        checkSizes(null, o.chains(), o.batch(), Math.max(TrainConfig.PIXELS, Math.max(c.hidden(), c.latent())));
        Path out = o.out();
        List<Path> earlier = earlierEvaluation(out, o.resume(), o.force());

        // sharded, the executors compute on --backend; the driver only merges (and finds the active units on the CPU), so it
        // opens no device: it may have none (a cluster's login node), and on a GPU node it would take one from a task
        try (Backend backend = o.master() == null ? BackendOption.open(o.backend()) : Backends.cpu()) {
            String backendName = o.master() == null ? backend.name() : BackendOption.api(o.backend());
            Evaluator ev = new Evaluator(o.chains(), o.temperatures(), o.leapfrog(), o.nvlbSamples(), o.batch(), backend);
            try {
                Files.createDirectories(out);
            } catch (IOException e) {
                throw new AiwaeException("cannot create --out " + out + ": " + e.getMessage());
            }
            // the one writer of --out: the lock a training run takes, so --force never deletes what another process writes
            try (RunLock lock = RunLock.acquire(out, "folder")) {
                deleteEarlier(earlier);
                return evaluateInto(o, run, data, chosen, ev, backendName);
            }
        }
    }

    /** Evaluates the chosen images of each split into --out (whose lock is held) and writes eval.json. */
    private static int evaluateInto(Options o, CheckpointStore.Loaded run, Split data, Map<String, int[]> chosen, Evaluator ev,
                                    String backendName) {
        Path dir = o.checkpoint(), out = o.out();
        long seed = o.seed();
        List<String> splits = o.splits();
        long start = System.nanoTime();
        EvalReport.SplitResult test = null, train = null;
        TaskRunner cluster = o.master() == null ? null : TaskRunner.open(o.master(), "aiwae eval " + dir, o.conf());
        try {
            for (String s : splits) {
                Images images = images(data, s);
                int[] idx = chosen.get(s);
                Map<Integer, ImageResult> results;
                try (ResultsFile file = openResults(out.resolve(resultsName(s)), header(s, run, ev, seed, backendName, images))) {
                    if (cluster == null) {
                        evaluate(ev, run.model(), images, idx, ImageStreams.of(seed, s), file, s, out);
                    } else {
                        evaluateSharded(cluster, o, idx, s, file);
                    }
                    results = file.results();
                }
                if (s.equals("test")) {
                    test = summary(results, idx, s, activity(run.model(), images, idx));
                } else {
                    train = summary(results, idx, s, null);
                }
            }
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
        if (cluster != null) {
            deleteTree(out.resolve(SHARDS));
        }
        EvalReport report = new EvalReport(EvalReport.FORMAT, dir.toString(), run.config().dataset(), run.config().method(),
                run.config(), run.epoch(), ev.protocol(), seed, backendName, test, train,
                test != null && train != null ? test.nll() - train.nll() : null);
        try {
            AtomicFiles.writeString(out.resolve(REPORT), Json.write(report) + "\n");
        } catch (IOException e) {
            throw new AiwaeException(org.aiwae.io.IoErrors.writing(out.resolve(REPORT), e).getMessage()
                    + " (the per-image results are kept; rerun with --resume)", e);
        }
        System.out.println(table(report));
        System.out.printf("%.1f s; results in %s%n", (System.nanoTime() - start) / 1e9, out.resolve(REPORT));
        return 0;
    }

    /** The per-image results file; one that cannot be continued says which flags start over or write elsewhere. */
    private static ResultsFile openResults(Path file, ResultsFile.Header header) {
        try {
            return ResultsFile.open(file, header);
        } catch (ResultsFile.Mismatch e) {
            throw new AiwaeException(e.getMessage() + "; pass --force to start over, or --out for another folder", e);
        }
    }

    private static Images images(Split data, String split) {
        return split.equals("test") ? data.test() : data.train();
    }

    private static int[] indices(Images images, String split, int limit, int[] range) {
        int from = 0, to = limit > 0 ? Math.min(limit, images.count()) : images.count();
        if (range != null) {
            if (range[1] > images.count()) {
                throw new AiwaeException("--images " + range[0] + ":" + range[1] + " is beyond the " + images.count() + " "
                        + split + " images");
            }
            from = range[0];
            to = range[1];
        }
        int[] idx = new int[to - from];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = from + i;
        }
        return idx;
    }

    /**
     * The files of an earlier evaluation in {@code out} that --force replaces (none with --resume, which
     * continues them); without either flag an earlier evaluation is refused. Nothing is deleted here:
     * {@link #deleteEarlier} does that once the folder's lock is held.
     */
    private static List<Path> earlierEvaluation(Path out, boolean resume, boolean force) {
        List<Path> existing = new ArrayList<>();
        for (String f : List.of(REPORT, resultsName("test"), resultsName("train"))) {
            if (Files.exists(out.resolve(f), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                existing.add(out.resolve(f));
            }
        }
        if (existing.isEmpty() || resume) {
            return List.of();
        }
        if (!force) {
            throw new AiwaeException(out + " already has an evaluation (" + existing.get(0).getFileName()
                    + "); pass --resume to continue it, --force to replace it, or --out DIR to write elsewhere");
        }
        return existing;
    }

    private static void deleteEarlier(List<Path> existing) {
        for (Path p : existing) {
            try {
                Files.delete(p);
            } catch (IOException e) {
                throw new AiwaeException("--force: cannot delete " + p + ": " + e.getMessage());
            }
        }
    }

    /** What the per-image results of a split depend on; --resume refuses a file recorded with anything else. */
    private static ResultsFile.Header header(String split, CheckpointStore.Loaded run, Evaluator ev, long seed, String backend,
                                             Images images) {
        return new ResultsFile.Header(EvalReport.FORMAT, split, run.config().dataset(), images.count(),
                Evaluator.fingerprint(run.model()), run.epoch(), seed, backend, ev.protocol());
    }

    /** Evaluates the images of {@code idx} that {@code file} does not hold yet, in batches, appending each batch. */
    private static void evaluate(Evaluator ev, MlpVae model, Images images, int[] idx, ImageStreams streams, ResultsFile file,
                                 String split, Path out) {
        List<Integer> todo = new ArrayList<>();
        for (int i : idx) {
            if (!file.results().containsKey(i)) {
                todo.add(i);
            }
        }
        long aisUnits = 3L * ev.chains() * ev.leapfrog(), perImage = aisUnits * (ev.temperatures() - 1) + ev.nvlbSamples();
        int already = idx.length - todo.size();
        Progress bar = new Progress(System.err, "eval " + split + " images", perImage * idx.length).scaled(perImage)
                .resumedAt(perImage * already);
        if (already > 0) {
            System.err.println("aiwae: " + split + ": " + already + " of " + idx.length + " images already in "
                    + resultsName(split) + "; evaluating the other " + todo.size());
        }
        for (int from = 0; from < todo.size(); from += ev.batch()) {
            int[] b = todo.subList(from, Math.min(todo.size(), from + ev.batch())).stream().mapToInt(Integer::intValue).toArray();
            long base = perImage * (already + from);
            Tensor x = Evaluator.binarize(images, b, streams);
            String where = "images " + b[0] + (b.length > 1 ? ".." + b[b.length - 1] : "");
            double[] lp = ev.logLikelihood(model, x, streams, b, done -> bar.update(base + aisUnits * done,
                    "AIS temperature " + done / b.length + "/" + (ev.temperatures() - 1) + " of " + where));
            bar.update(base + aisUnits * (ev.temperatures() - 1) * b.length, "NVLB of " + where);
            double[] lb = ev.bound(model, x, streams, b);
            List<ImageResult> rs = new ArrayList<>();
            for (int i = 0; i < b.length; i++) {
                rs.add(new ImageResult(b[i], -lp[i], -lb[i]));
            }
            file.append(rs);
            FaultInjector.reach(new FaultInjector.Point.BatchWritten(out));
            bar.update(base + perImage * b.length, "");
        }
        bar.finish(perImage * idx.length, "");
    }

    /** The folder under --out where the shards of a sharded evaluation keep their own results until merged. */
    static final String SHARDS = "shards";

    /**
     * The images of {@code idx} that {@code file} lacks, evaluated as contiguous image ranges, one
     * {@code aiwae eval --images A:B --resume} task each (into {@code shards/SPLIT-A-B} under --out, so a
     * retried task continues where its last attempt stopped), then appended to {@code file} in image
     * order: the same lines, hence the same bytes, as an unsharded evaluation.
     */
    private static void evaluateSharded(TaskRunner cluster, Options o, int[] idx, String split, ResultsFile file) {
        List<Integer> todo = new ArrayList<>();
        for (int i : idx) {
            if (!file.results().containsKey(i)) {
                todo.add(i);
            }
        }
        if (todo.isEmpty()) {
            return;
        }
        int n = Math.min(todo.size(), o.shards() > 0 ? o.shards() : Math.max(1, cluster.parallelism()));
        Path shardRoot = o.out().toAbsolutePath().resolve(SHARDS);
        List<TaskRunner.Task> tasks = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int from = todo.get((int) ((long) todo.size() * k / n)), to = todo.get((int) ((long) todo.size() * (k + 1) / n) - 1) + 1;
            Path shard = shardRoot.resolve(split + "-" + from + "-" + to);
            List<String> argv = new ArrayList<>(List.of("eval", "--checkpoint", o.checkpoint().toAbsolutePath().toString(),
                    "--out", shard.toString(), "--resume", "--split", split, "--images", from + ":" + to,
                    "--nll-chains", "" + o.chains(), "--nll-temperatures", "" + o.temperatures(), "--nll-leapfrog", "" + o.leapfrog(),
                    "--nvlb-samples", "" + o.nvlbSamples(), "--batch", "" + o.batch(), "--seed", "" + o.seed(),
                    "--backend", o.backend()));
            if (o.dataDir() != null) {
                argv.addAll(List.of("--data-dir", o.dataDir().toAbsolutePath().toString()));
            }
            tasks.add(new TaskRunner.Task(split + " images " + from + ":" + to, List.of(argv), shard.resolve(resultsName(split)).toString()));
        }
        System.err.println("aiwae: " + split + ": " + todo.size() + " images in " + n + " shards on Spark");
        Map<Integer, ImageResult> merged = new java.util.TreeMap<>();
        List<TaskRunner.Outcome> outcomes = cluster.run(tasks);
        for (int k = 0; k < outcomes.size(); k++) {
            if (outcomes.get(k) instanceof TaskRunner.Outcome.Failed f) {
                // nothing is merged from a split with a failed shard: the shards' results stay for --resume
                throw new AiwaeException("shard " + tasks.get(k).name() + " failed: " + f.reason() + "; the other shards' results are "
                        + "kept under " + shardRoot + " and the same command with --resume continues");
            }
        }
        for (int k = 0; k < outcomes.size(); k++) {
            List<String> lines = ((TaskRunner.Outcome.Done) outcomes.get(k)).result().lines().toList();
            for (int l = 1; l < lines.size(); l++) {
                ImageResult r = Json.read(lines.get(l).getBytes(java.nio.charset.StandardCharsets.UTF_8), ImageResult.class,
                        tasks.get(k).resultFile() + " line " + (l + 1), false);
                merged.put(r.image(), r);
            }
        }
        List<ImageResult> batch = new ArrayList<>();
        for (int i : todo) {
            ImageResult r = merged.get(i);
            if (r == null) {
                throw new AiwaeException("shard results lack image " + i + " of " + split + " (under " + shardRoot + ")");
            }
            batch.add(r);
            if (batch.size() == o.batch()) {
                file.append(batch);
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            file.append(batch);
        }
    }

    private static void deleteTree(Path root) {
        try {
            AtomicFiles.deleteTree(root);
        } catch (IOException e) {
            System.err.println("aiwae: could not remove " + root + " (" + e.getMessage() + "); the results are merged, delete it by hand");
        }
    }

    /** Means over the chosen images, in image order (so the same whatever the batching or resumption). */
    private static EvalReport.SplitResult summary(Map<Integer, ImageResult> results, int[] idx, String split, double[] activity) {
        double nll = 0, nvlb = 0;
        int diverged = 0;
        for (int i : idx) {
            ImageResult r = results.get(i);
            if (r == null) {
                throw new IllegalStateException("image " + i + " of " + split + " was not evaluated");
            }
            nll += r.nll();
            nvlb += r.nvlb();
            diverged += r.finite() ? 0 : 1;
        }
        nll /= idx.length;
        nvlb /= idx.length;
        return new EvalReport.SplitResult(idx.length, idx[0] + ":" + (idx[idx.length - 1] + 1), resultsName(split), nll, nvlb,
                nvlb - nll, diverged, activity == null ? null : Evaluator.activeUnits(activity),
                activity == null ? null : Arrays.stream(activity).boxed().toList());
    }

    private static double[] activity(MlpVae model, Images images, int[] idx) {
        Progress bar = new Progress(System.err, "active units", idx.length);
        double[] act = Evaluator.activity(model, images.slice(idx[0], idx[idx.length - 1] + 1));
        bar.finish(idx.length, "");
        return act;
    }

    private static String table(EvalReport r) {
        StringBuilder sb = new StringBuilder();
        for (String s : List.of("test", "train")) {
            EvalReport.SplitResult m = r.split(s);
            if (m != null) {
                sb.append(String.format("%-6s images %6d  NLL %8.3f  NVLB %8.3f  var gap %6.3f%s%s%n", s, m.images(), m.nll(),
                        m.nvlb(), m.varGap(), m.activeUnits() != null ? "  active units " + m.activeUnits() : "",
                        m.diverged() > 0 ? "  DIVERGED on " + m.diverged() + " images (NaN)" : ""));
            }
        }
        if (r.genGap() != null) {
            sb.append(String.format("gen gap %.3f%n", r.genGap()));
        }
        sb.append("protocol ").append(Json.write(r.protocol()));
        return sb.toString();
    }
}
