package org.aiwae.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.aiwae.AiwaeException;
import org.aiwae.data.Datasets;
import org.aiwae.data.Images;
import org.aiwae.data.Split;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.backend.Backends;
import org.aiwae.eval.Evaluation;
import org.aiwae.eval.Evaluator;
import org.aiwae.eval.ResultsFile;
import org.aiwae.eval.SplitResult;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;
import org.aiwae.train.CheckpointReader;
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
    GraphOption graph;

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

    /**
     * What to evaluate and where: the flags of {@code aiwae eval}, checked.
     *
     * @param limit the first {@code limit} images, or 0 for all
     * @param range images A to B-1 ({@code {A, B}}), or null for the first {@code limit}
     */
    record Options(Path checkpoint, Path out, boolean resume, boolean force, List<String> splits, int limit, int[] range,
                   int chains, int temperatures, int leapfrog, int nvlbSamples, int batch, long seed, String backend,
                   Path dataDir, String master, int shards, Map<String, String> conf, boolean graphs) {}

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
        checkSizes(spec, chains, batch, Datasets.SIDE * Datasets.SIDE); // every dataset's images
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
                Map.copyOf(conf), graph.on());
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
        CheckpointReader.Loaded<?> run = RunArgument.model(o.checkpoint());
        Split data = DataDirOption.load(run.config().dataset(), o.dataDir());
        Map<String, int[]> chosen = new LinkedHashMap<>();
        for (String s : o.splits()) {
            chosen.put(s, indices(images(data, s), s, o.limit(), o.range()));
        }
        TrainConfig c = run.config();
        checkSizes(null, o.chains(), o.batch(), Math.max(c.pixels(), Math.max(c.hidden(), c.latent())));
        Path out = o.out();
        List<Path> earlier = Evaluation.existing(out, REPORT);
        if (!earlier.isEmpty() && !o.resume() && !o.force()) {
            throw new AiwaeException(out + " already has an evaluation (" + earlier.get(0).getFileName()
                    + "); pass --resume to continue it, --force to replace it, or --out DIR to write elsewhere");
        }
        // sharded, the executors compute on --backend; the driver only merges (and finds the active units on the CPU), so it
        // opens no device: it may have none (a cluster's login node), and on a GPU node it would take one from a task
        try (Backend backend = o.master() == null ? BackendOption.open(o.backend()) : Backends.cpu()) {
            String backendName = o.master() == null ? backend.name() : BackendOption.api(o.backend());
            Evaluator ev = new Evaluator(o.chains(), o.temperatures(), o.leapfrog(), o.nvlbSamples(), o.batch(), backend, o.graphs());
            try {
                Files.createDirectories(out);
            } catch (IOException e) {
                throw new AiwaeException("cannot create --out " + out + ": " + e.getMessage());
            }
            // the one writer of --out: the lock a training run takes, so --force never deletes what another process writes
            try (RunLock lock = RunLock.acquire(out, "folder")) {
                if (!o.resume()) {
                    deleteEarlier(earlier);
                }
                long start = System.nanoTime();
                Evaluation evaluation = new Evaluation(run.model(), c.dataset(), run.epoch(), ev, o.seed(), backendName, out);
                Map<String, SplitResult> results = new LinkedHashMap<>();
                try (TaskRunner cluster = o.master() == null ? null : TaskRunner.open(o.master(), "aiwae eval " + o.checkpoint(), o.conf())) {
                    Evaluation.Shards shards = cluster == null ? null : shards(cluster, o);
                    for (String s : o.splits()) {
                        results.put(s, evaluation.split(s, images(data, s), chosen.get(s), shards, s.equals("test")));
                    }
                } catch (ResultsFile.Mismatch e) {
                    throw new AiwaeException(e.getMessage() + "; pass --force to start over, or --out for another folder", e);
                }
                if (o.master() != null) {
                    evaluation.removeShards();
                }
                SplitResult test = results.get("test"), train = results.get("train");
                EvalReport report = new EvalReport(EvalReport.FORMAT, o.checkpoint().toString(), c.dataset(), c.method(), c, run.epoch(),
                        ev.protocol(), o.seed(), backendName, test, train, test != null && train != null ? test.nll() - train.nll() : null);
                try {
                    AtomicFiles.writeString(out.resolve(REPORT), Json.write(report) + "\n");
                } catch (IOException e) {
                    throw new AiwaeException(org.aiwae.io.IoErrors.writing(out.resolve(REPORT), e).getMessage()
                            + " (the per-image results are kept; rerun with --resume)", e);
                }
                System.out.println(report.table());
                System.out.printf("%.1f s; results in %s%n", (System.nanoTime() - start) / 1e9, out.resolve(REPORT));
                return 0;
            }
        }
    }

    /**
     * The image ranges as Spark tasks ({@link EvalShard}: the evaluation itself on the range, in the executor), --shards
     * of them per split (default: the cluster's parallelism); a range that fails for good fails the split, its
     * results kept for --resume.
     */
    private static Evaluation.Shards shards(TaskRunner cluster, Options o) {
        return new Evaluation.Shards() {
            @Override
            public int count(int images) {
                return o.shards() > 0 ? o.shards() : cluster.parallelism();
            }

            @Override
            public String where() {
                return "on Spark";
            }

            @Override
            public List<String> evaluate(List<Evaluation.Range> ranges) {
                List<TaskRunner.Task> tasks = new ArrayList<>();
                for (Evaluation.Range r : ranges) {
                    tasks.add(new TaskRunner.Task(r.name(), new EvalShard(o.checkpoint().toAbsolutePath().toString(),
                            o.dataDir() == null ? null : o.dataDir().toAbsolutePath().toString(), r.split(), r.from(), r.to(), o.chains(),
                            o.temperatures(), o.leapfrog(), o.nvlbSamples(), o.batch(), o.seed(), o.backend(), r.folder().toString(),
                            o.graphs())));
                }
                List<TaskRunner.Outcome> outcomes = cluster.run(tasks);
                List<String> texts = new ArrayList<>();
                for (int k = 0; k < outcomes.size(); k++) {
                    if (outcomes.get(k) instanceof TaskRunner.Outcome.Done d) {
                        texts.add(d.result());
                    } else if (outcomes.get(k) instanceof TaskRunner.Outcome.Failed f) {
                        // nothing is merged from a split with a failed shard: the shards' results stay for --resume
                        throw new AiwaeException("shard " + tasks.get(k).name() + " failed: " + f.reason() + "; the other shards' results "
                                + "are kept under " + ranges.get(k).folder().getParent() + " and the same command with --resume continues");
                    }
                }
                return texts;
            }
        };
    }

    static Images images(Split data, String split) {
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
        return IntStream.range(from, to).toArray();
    }

    /** --force: deletes the files of the earlier evaluation, once the folder's lock is held. */
    private static void deleteEarlier(List<Path> existing) {
        for (Path p : existing) {
            try {
                Files.delete(p);
            } catch (IOException e) {
                throw new AiwaeException("--force: cannot delete " + p + ": " + e.getMessage());
            }
        }
    }
}
