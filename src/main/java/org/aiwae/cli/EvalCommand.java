package org.aiwae.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.aiwae.data.Binarizer;
import org.aiwae.data.Datasets;
import org.aiwae.data.Images;
import org.aiwae.data.Split;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.eval.Bounds;
import org.aiwae.eval.Evaluator;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;
import org.aiwae.train.Checkpoint;
import org.aiwae.train.Streams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code aiwae eval}: NLL by AIS, NVLB, gaps and active units of a run folder, into {@code eval.json}. */
@Command(name = "eval", header = "NLL by AIS, NVLB, gaps and active units of a run", sortOptions = false,
        description = {"NLL by AIS, NVLB, the variational and generalisation gaps and the active units of a run folder, "
                + "written to DIR/eval.json.",
                "The defaults are the paper's protocol (about 31 hours for MNIST on a 2-core CPU); the flags reduce it, "
                        + "and eval.json records what was used."})
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", paramLabel = "DIR", required = true, description = "the training run folder to evaluate")
    Path dir;

    @Option(names = "--split", paramLabel = "SPLIT", defaultValue = "test", completionCandidates = Splits.class,
            description = "${COMPLETION-CANDIDATES}: the images evaluated (both also gives the generalisation gap); "
                    + "default: ${DEFAULT-VALUE}")
    String split;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0",
            description = "evaluate only the first N images of each split; default: all")
    int limit;

    @Option(names = "--nll-chains", paramLabel = "N", defaultValue = "16",
            description = "AIS chains per image; default: ${DEFAULT-VALUE}")
    int chains;

    @Option(names = "--nll-temperatures", paramLabel = "T", defaultValue = "10000",
            description = "AIS inverse temperatures (at least 2); default: ${DEFAULT-VALUE}")
    int temperatures;

    @Option(names = "--nll-leapfrog", paramLabel = "L", defaultValue = "10",
            description = "leapfrog steps per AIS HMC transition; default: ${DEFAULT-VALUE}")
    int leapfrog;

    @Option(names = "--nvlb-samples", paramLabel = "K", defaultValue = "5000",
            description = "k of the bound NVLB = -L_k; default: ${DEFAULT-VALUE}")
    int nvlbSamples;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "100",
            description = "images per AIS batch (memory vs. speed); default: ${DEFAULT-VALUE}")
    int batch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "random seed; default: ${DEFAULT-VALUE}")
    long seed;

    @Mixin
    BackendOption backendOption;

    @Mixin
    DataDirOption dataDir;

    static final class Splits extends java.util.ArrayList<String> {
        Splits() {
            super(List.of("test", "train", "both"));
        }
    }

    private void atLeast(String flag, int value, int min) {
        if (value < min) {
            throw new ParameterException(spec.commandLine(), flag + " must be at least " + min + ", got " + value);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (!new Splits().contains(split)) {
            throw new ParameterException(spec.commandLine(), "unknown split '" + split + "'; choose test, train or both");
        }
        atLeast("--limit", limit, 0);
        atLeast("--nll-chains", chains, 1);
        atLeast("--nll-temperatures", temperatures, 2);
        atLeast("--nll-leapfrog", leapfrog, 1);
        atLeast("--nvlb-samples", nvlbSamples, 1);
        atLeast("--batch", batch, 1);
        Backend backend = backendOption.open();
        Evaluator ev = new Evaluator(chains, temperatures, leapfrog, nvlbSamples, batch, backend);
        Checkpoint.Loaded run = Checkpoint.readModel(dir);
        Split data = Datasets.load(run.config().dataset(), dataDir.dir);
        long start = System.nanoTime();
        EvalReport.SplitResult test = null, train = null;
        for (String s : split.equals("both") ? List.of("test", "train") : List.of(split)) {
            Images images = s.equals("test") ? data.test() : data.train();
            if (limit > 0) {
                images = images.limit(limit);
            }
            Tensor x = Binarizer.sample(images.slice(0, images.count()), Streams.of(seed, Streams.EVAL_DATA, s.equals("test") ? 1 : 2, 0));
            double[] lp = ev.logLikelihood(run.model(), x, Streams.of(seed, Streams.EVAL, 1, s.equals("test") ? 1 : 2), System.err,
                    "NLL(" + s + ") AIS");
            double[] lb = ev.bound(run.model(), x, Streams.of(seed, Streams.EVAL, 2, s.equals("test") ? 1 : 2));
            double nll = -Bounds.mean(lp), nvlb = -Bounds.mean(lb);
            if (s.equals("test")) {
                double[] act = Evaluator.activity(run.model(), images.slice(0, images.count()));
                test = new EvalReport.SplitResult(images.count(), nll, nvlb, nvlb - nll, Evaluator.activeUnits(act),
                        java.util.Arrays.stream(act).boxed().toList());
            } else {
                train = new EvalReport.SplitResult(images.count(), nll, nvlb, nvlb - nll, null, null);
            }
        }
        EvalReport report = new EvalReport(dir.toString(), run.config().dataset(), run.config().method(), run.config(), run.epoch(),
                ev.protocol(), test, train, test != null && train != null ? test.nll() - train.nll() : null,
                (System.nanoTime() - start) / 1e9);
        AtomicFiles.writeString(dir.resolve("eval.json"), Json.write(report) + "\n");
        System.out.println(table(report));
        return 0;
    }

    private static String table(EvalReport r) {
        StringBuilder sb = new StringBuilder();
        for (String s : List.of("test", "train")) {
            EvalReport.SplitResult m = r.split(s);
            if (m != null) {
                sb.append(String.format("%-6s images %6d  NLL %8.3f  NVLB %8.3f  var gap %6.3f%s%n", s, m.images(),
                        m.nll(), m.nvlb(), m.varGap(), m.activeUnits() != null ? "  active units " + m.activeUnits() : ""));
            }
        }
        if (r.genGap() != null) {
            sb.append(String.format("gen gap %.3f%n", r.genGap()));
        }
        sb.append("protocol ").append(Json.write(r.protocol()));
        return sb.toString();
    }
}
