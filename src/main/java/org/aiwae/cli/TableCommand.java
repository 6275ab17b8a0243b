package org.aiwae.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.aiwae.AiwaeException;
import org.aiwae.eval.Evaluator;
import org.aiwae.io.Json;
import org.aiwae.train.Method;
import org.aiwae.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code aiwae table DIR...}: the evaluations of several runs as a Markdown table in the layout of the paper's Table 1. */
@Command(name = "table", header = "Markdown table of evaluated runs in the layout of the paper's Table 1",
        description = {"Prints the evaluations of several runs as a Markdown table in the layout of the paper's Table 1: one column "
                + "per run folder (each needs an eval.json from 'aiwae eval'); rows NLL test/train, NVLB test/train, "
                + "var gap, gen gap, active units."})
final class TableCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", arity = "1..*", description = "run folders with an eval.json")
    List<Path> dirs;

    @Override
    public Integer call() {
        List<EvalReport> evals = new ArrayList<>();
        for (Path d : dirs) {
            evals.add(read(d));
        }
        System.out.print(markdown(evals));
        return 0;
    }

    /** A run's eval.json (fields a newer version added are ignored). */
    static EvalReport read(Path dir) {
        Path f = dir.resolve("eval.json");
        if (!Files.isRegularFile(f)) {
            throw new AiwaeException(dir + " has no eval.json; run 'aiwae eval --checkpoint " + dir + "' first");
        }
        try {
            return Json.read(Files.readAllBytes(f), EvalReport.class, "cannot read " + f, true);
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + f + ": " + e.getMessage());
        }
    }

    /**
     * The table; a cell the evaluation did not measure (e.g. train NLL without --split both) is a dash,
     * a value that is not finite (the evaluation diverged) is NaN, inf or -inf, with a note below.
     */
    static String markdown(List<EvalReport> evals) {
        StringBuilder sb = new StringBuilder("| |");
        for (EvalReport e : evals) {
            TrainConfig c = e.config();
            sb.append(' ').append(c.method().key().toUpperCase()).append(" K=").append(c.samples())
                    .append(c.method() == Method.AIWAE ? " T=" + c.temperatures() : "").append(" |");
        }
        sb.append("\n| --- |").append(" ---: |".repeat(evals.size())).append('\n');
        row(sb, "NLL (test)", evals, e -> field(e.test(), EvalReport.SplitResult::nll));
        row(sb, "NLL (train)", evals, e -> field(e.train(), EvalReport.SplitResult::nll));
        row(sb, "NVLB (test)", evals, e -> field(e.test(), EvalReport.SplitResult::nvlb));
        row(sb, "NVLB (train)", evals, e -> field(e.train(), EvalReport.SplitResult::nvlb));
        row(sb, "var gap", evals, e -> field(e.test(), EvalReport.SplitResult::varGap));
        row(sb, "gen gap", evals, EvalReport::genGap);
        row(sb, "active units", evals, e -> e.test() == null ? null : e.test().activeUnits());
        sb.append('\n');
        List<String> diverged = new ArrayList<>();
        for (EvalReport e : evals) {
            for (String split : List.of("test", "train")) {
                EvalReport.SplitResult r = e.split(split);
                if (r != null && r.diverged() != null && r.diverged() > 0) {
                    diverged.add(r.diverged() + " " + split + " images of " + e.checkpoint());
                }
            }
        }
        if (sb.indexOf("| NaN |") >= 0 || sb.indexOf("inf |") >= 0 || !diverged.isEmpty()) {
            sb.append("NaN / inf: the evaluation diverged (non-finite log-likelihoods")
                    .append(diverged.isEmpty() ? "" : " for " + String.join(", ", diverged)).append("), not a missing measurement.\n\n");
        }
        note(sb, "Protocol", evals, TableCommand::protocol);
        note(sb, "Training", evals, TableCommand::training);
        return sb.toString();
    }

    /** One line when every column agrees, else the distinct values in column order. */
    private static void note(StringBuilder sb, String what, List<EvalReport> evals, Function<EvalReport, String> f) {
        List<String> distinct = new ArrayList<>();
        for (EvalReport e : evals) {
            if (!distinct.contains(f.apply(e))) {
                distinct.add(f.apply(e));
            }
        }
        sb.append(distinct.size() == 1 ? what + ": " + distinct.get(0)
                : what + " differs between columns: " + String.join("; ", distinct)).append("\n\n");
    }

    private static String training(EvalReport e) {
        TrainConfig c = e.config();
        return c.dataset() + ", " + c.epochs() + " epochs (" + c.schedule() + " schedule), latent " + c.latent()
                + ", evaluated at epoch " + e.epoch();
    }

    private static String protocol(EvalReport e) {
        Evaluator.Protocol p = e.protocol();
        String images = e.test() == null ? "" : ", " + e.test().images() + " images per split";
        String base = "AIS " + p.nllChains() + " chains x " + p.nllTemperatures() + " temperatures, L=" + p.nllLeapfrog()
                + "; NVLB -L_" + p.nvlbSamples() + images;
        return (p.paperProtocol() ? "the paper's (" : "reduced (") + base + ")";
    }

    private static Double field(EvalReport.SplitResult s, java.util.function.ToDoubleFunction<EvalReport.SplitResult> f) {
        return s == null ? null : f.applyAsDouble(s);
    }

    /** A measured value; JSON has no NaN, eval.json holds "NaN" / "Infinity" strings, read back as these doubles. */
    private static String cell(double v) {
        return Double.isNaN(v) ? "NaN" : v == Double.POSITIVE_INFINITY ? "inf" : v == Double.NEGATIVE_INFINITY ? "-inf"
                : String.format("%.2f", v);
    }

    private static void row(StringBuilder sb, String name, List<EvalReport> evals, Function<EvalReport, Number> f) {
        sb.append("| ").append(name).append(" |");
        for (EvalReport e : evals) {
            Number v = f.apply(e);
            sb.append(' ').append(v == null ? "-" : v instanceof Integer i ? i.toString() : cell(v.doubleValue())).append(" |");
        }
        sb.append('\n');
    }
}
