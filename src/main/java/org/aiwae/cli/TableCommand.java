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
                + "var gap, gen gap, active units.",
                "Given the runs folder of 'aiwae grid' (it holds grid.json): one column per configuration, Table 1 with the "
                        + "means over the repeats and Table 3 with mean (sd), per dataset, with the protocol."})
final class TableCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", arity = "1..*", description = "run folders with an eval.json, or one grid runs folder")
    List<Path> dirs;

    @Override
    public Integer call() {
        if (dirs.size() == 1 && Files.isRegularFile(dirs.get(0).resolve(GridCommand.GRID))) {
            System.out.print(gridTables(dirs.get(0)));
            return 0;
        }
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

    /**
     * The tables of a grid's runs folder: per dataset, Table 1 (means over the evaluated repeats) and
     * Table 3 (mean (sd), the sample standard deviation over repeats), one column per configuration in
     * the grid's order; a configuration with no evaluated repeat yet shows dashes.
     */
    static String gridTables(Path root) {
        Path gridFile = root.resolve(GridCommand.GRID);
        GridSpec grid = Json.read(gridFile, GridSpec.class);
        java.util.Map<String, java.util.Map<String, List<EvalReport>>> byDataset = new java.util.LinkedHashMap<>();
        java.util.Map<String, String> labels = new java.util.HashMap<>();
        int done = 0, all = 0;
        for (GridSpec.Cell c : grid.cells(gridFile)) {
            List<EvalReport> reps = byDataset.computeIfAbsent(c.dataset(), k -> new java.util.LinkedHashMap<>())
                    .computeIfAbsent(c.config(), k -> new ArrayList<>());
            labels.put(c.config(), c.label());
            all++;
            if (Files.isRegularFile(c.dir(root).resolve("eval.json"))) {
                reps.add(read(c.dir(root)));
                done++;
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append("# Grid ").append(grid.name() == null ? root.toString() : grid.name()).append(": ").append(done).append(" of ")
                .append(all).append(" cells evaluated (")
                .append(grid.uniformRepeats() ? grid.repeats() + " repeats per configuration" : "repeats per configuration as the grid file sets them")
                .append(")\n\n");
        for (var d : byDataset.entrySet()) {
            List<String> configs = new ArrayList<>(d.getValue().keySet());
            List<List<EvalReport>> cols = new ArrayList<>(d.getValue().values());
            for (boolean sd : new boolean[] {false, true}) {
                sb.append("## ").append(d.getKey()).append(sd ? ": Table 3 layout, mean (sd) over repeats" : ": Table 1 layout, means over repeats")
                        .append("\n\n| |");
                for (String c : configs) {
                    sb.append(' ').append(labels.get(c)).append(" |");
                }
                sb.append("\n| --- |").append(" ---: |".repeat(configs.size())).append('\n');
                gridRow(sb, "NLL (test)", cols, sd, e -> field(e.test(), EvalReport.SplitResult::nll));
                gridRow(sb, "NLL (train)", cols, sd, e -> field(e.train(), EvalReport.SplitResult::nll));
                gridRow(sb, "NVLB (test)", cols, sd, e -> field(e.test(), EvalReport.SplitResult::nvlb));
                gridRow(sb, "NVLB (train)", cols, sd, e -> field(e.train(), EvalReport.SplitResult::nvlb));
                gridRow(sb, "var gap", cols, sd, e -> field(e.test(), EvalReport.SplitResult::varGap));
                gridRow(sb, "gen gap", cols, sd, EvalReport::genGap);
                gridRow(sb, "active units", cols, sd, e -> e.test() == null || e.test().activeUnits() == null ? null
                        : e.test().activeUnits().doubleValue());
                sb.append("| repeats evaluated |");
                for (List<EvalReport> col : cols) {
                    sb.append(' ').append(col.size()).append(" |");
                }
                sb.append("\n\n");
            }
            List<EvalReport> evals = cols.stream().flatMap(List::stream).toList();
            if (!evals.isEmpty()) {
                note(sb, "Protocol", evals, TableCommand::protocol);
                note(sb, "Training", evals, TableCommand::training);
            }
        }
        return sb.toString();
    }

    /** A row of a grid table: per configuration the mean over its repeats, with (sd) in Table 3; dash when none. */
    private static void gridRow(StringBuilder sb, String name, List<List<EvalReport>> cols, boolean sd, Function<EvalReport, Double> f) {
        sb.append("| ").append(name).append(" |");
        for (List<EvalReport> col : cols) {
            List<Double> v = new ArrayList<>();
            for (EvalReport e : col) {
                if (f.apply(e) != null) {
                    v.add(f.apply(e));
                }
            }
            if (v.isEmpty()) {
                sb.append(" - |");
                continue;
            }
            double mean = v.stream().mapToDouble(Double::doubleValue).sum() / v.size();
            sb.append(' ').append(cell(mean));
            if (sd) {
                double ss = 0;
                for (double x : v) {
                    ss += (x - mean) * (x - mean);
                }
                sb.append(v.size() > 1 ? " (" + cell(Math.sqrt(ss / (v.size() - 1))) + ")" : " (-)");
            }
            sb.append(" |");
        }
        sb.append('\n');
    }

    private static String training(EvalReport e) {
        TrainConfig c = e.config();
        return c.dataset() + ", " + c.epochs() + " epochs (" + c.scheduleLabel() + " schedule), latent " + c.latent()
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
