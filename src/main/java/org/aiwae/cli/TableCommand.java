package org.aiwae.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.aiwae.AiwaeException;
import java.util.Map;
import org.aiwae.eval.Evaluation;
import org.aiwae.eval.Evaluator;
import org.aiwae.eval.ResultsFile;
import org.aiwae.eval.Sample;
import org.aiwae.eval.SplitResult;
import org.aiwae.io.Json;
import org.aiwae.train.Method;
import org.aiwae.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
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

    @Option(names = "--se", description = "also the sampling errors, from the per-image results beside each eval.json "
            + "(eval-test.jsonl, eval-train.jsonl): per run the NLL's standard error, the variational gap's paired one and the "
            + "generalisation gap's; per difference between two runs the mean NLL difference with its paired standard error over "
            + "the images both evaluated, and the unpaired one. Run folders: each against the first; a grid folder: each AIWAE "
            + "cell against the IWAE cell of the same dataset, K and seed (else that configuration's first evaluated repeat)")
    boolean se;

    @Override
    public Integer call() {
        if (dirs.size() == 1 && Files.isRegularFile(dirs.get(0).resolve(GridCommand.GRID))) {
            String tables = gridTables(dirs.get(0));
            System.out.print(se ? tables + gridErrors(dirs.get(0)) : tables);
            return 0;
        }
        List<EvalReport> evals = new ArrayList<>();
        List<PerImage> runs = new ArrayList<>();
        for (Path d : dirs) {
            evals.add(read(d));
            if (se) {
                runs.add(PerImage.read(d.toString(), d, evals.get(evals.size() - 1)));
            }
        }
        String table = markdown(evals);
        if (se) {
            List<PerImage[]> pairs = new ArrayList<>();
            for (int i = 1; i < runs.size(); i++) {
                pairs.add(new PerImage[] {runs.get(i), runs.get(0)});
            }
            table += errors(runs, pairs);
        }
        System.out.print(table);
        return 0;
    }

    /**
     * A run's per-image results for each split its eval.json summarises, exactly the images it summarises
     * (a results file may hold more, from an evaluation of a larger range).
     */
    record PerImage(String name, Map<String, Map<Integer, ResultsFile.ImageResult>> splits) {
        private static final java.util.regex.Pattern RANGE = java.util.regex.Pattern.compile("([0-9]{1,9}):([0-9]{1,9})");

        static PerImage read(String name, Path dir, EvalReport report) {
            Map<String, Map<Integer, ResultsFile.ImageResult>> splits = new java.util.LinkedHashMap<>();
            for (String split : List.of("test", "train")) {
                SplitResult s = report.split(split);
                if (s == null) {
                    continue;
                }
                java.util.regex.Matcher m = s.imageRange() == null ? null : RANGE.matcher(s.imageRange());
                if (m == null || !m.matches()) {
                    throw new AiwaeException(dir.resolve(EvalCommand.REPORT) + ": " + split + " image_range must be A:B, got "
                            + Json.write(s.imageRange()));
                }
                int from = Integer.parseInt(m.group(1)), to = Integer.parseInt(m.group(2));
                Path file = dir.resolve(Evaluation.resultsName(split));
                Map<Integer, ResultsFile.ImageResult> all = ResultsFile.read(file), chosen = new java.util.TreeMap<>();
                for (int i = from; i < to; i++) {
                    if (all.containsKey(i)) {
                        chosen.put(i, all.get(i));
                    }
                }
                if (chosen.size() != s.images() || to - from != s.images()) {
                    throw new AiwaeException(file + " holds " + chosen.size() + " of the " + s.images() + " images (" + s.imageRange()
                            + ") that " + dir.resolve(EvalCommand.REPORT) + " summarises; --se needs the results of each of them");
                }
                splits.put(split, chosen);
            }
            return new PerImage(name, splits);
        }

        /** One split's NLL values, or of the images listed only. */
        double[] nll(String split, java.util.Collection<Integer> images) {
            Map<Integer, ResultsFile.ImageResult> r = splits.get(split);
            return images.stream().mapToDouble(i -> r.get(i).nll()).toArray();
        }
    }

    /** {@code table --se} over a grid folder: every evaluated cell, and each AIWAE cell against its IWAE cell. */
    static String gridErrors(Path root) {
        Path gridFile = root.resolve(GridCommand.GRID);
        GridSpec grid = Json.read(gridFile, GridSpec.class);
        List<GridSpec.Cell> evaluated = new ArrayList<>();
        Map<String, PerImage> runs = new java.util.LinkedHashMap<>();
        for (GridSpec.Cell c : grid.cells(gridFile)) {
            if (Files.isRegularFile(c.dir(root).resolve(EvalCommand.REPORT))) {
                evaluated.add(c);
                runs.put(c.name(), PerImage.read(c.name(), c.dir(root), read(c.dir(root))));
            }
        }
        List<PerImage[]> pairs = new ArrayList<>();
        for (GridSpec.Cell c : evaluated) {
            if (!c.method().equals(Method.AIWAE.key())) {
                continue;
            }
            evaluated.stream()
                    .filter(b -> b.method().equals(Method.IWAE.key()) && b.dataset().equals(c.dataset()) && b.k() == c.k())
                    .min(java.util.Comparator.comparing((GridSpec.Cell b) -> b.seed() != c.seed()))
                    .ifPresent(b -> pairs.add(new PerImage[] {runs.get(c.name()), runs.get(b.name())}));
        }
        return errors(new ArrayList<>(runs.values()), pairs);
    }

    /** The two tables of --se: per run, and per pair (run, against). */
    static String errors(List<PerImage> runs, List<PerImage[]> pairs) {
        StringBuilder sb = new StringBuilder("## Sampling errors over images\n\n"
                + "se = per-image sd / sqrt(n). A difference between two runs evaluated on the same images (and binarisations) "
                + "has the paired se, sd of the per-image differences / sqrt(n), the right error for it; the unpaired "
                + "sqrt(se1^2 + se2^2) is given for comparison. The generalisation gap's se is unpaired (different images).\n\n"
                + "| run | n | NLL test (se) | per-image sd | NLL train (se) | var gap (paired se) | gen gap (se) |\n"
                + "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (PerImage r : runs) {
            Map<Integer, ResultsFile.ImageResult> test = r.splits().get("test"), train = r.splits().get("train");
            Sample nll = test == null ? null : Sample.of(r.nll("test", test.keySet()));
            Sample nt = train == null ? null : Sample.of(r.nll("train", train.keySet()));
            Sample gap = test == null ? null : Sample.of(test.values().stream().mapToDouble(x -> x.nvlb() - x.nll()).toArray());
            sb.append("| ").append(r.name())
                    .append(" | ").append(nll == null ? "-" : nll.n())
                    .append(" | ").append(nll == null ? "-" : withSe(nll.mean(), nll.se()))
                    .append(" | ").append(nll == null ? "-" : cell(nll.sd()))
                    .append(" | ").append(nt == null ? "-" : withSe(nt.mean(), nt.se()))
                    .append(" | ").append(gap == null ? "-" : withSe(gap.mean(), gap.se()))
                    .append(" | ").append(nll == null || nt == null ? "-" : withSe(nll.mean() - nt.mean(), Sample.unpairedSe(nll, nt)))
                    .append(" |\n");
        }
        sb.append("\n| run | against | split | images in common | NLL difference | paired se | unpaired se |\n"
                + "| --- | --- | --- | ---: | ---: | ---: | ---: |\n");
        for (PerImage[] p : pairs) {
            for (String split : List.of("test", "train")) {
                Map<Integer, ResultsFile.ImageResult> a = p[0].splits().get(split), b = p[1].splits().get(split);
                if (a == null || b == null) {
                    continue;
                }
                java.util.SortedSet<Integer> common = new java.util.TreeSet<>(a.keySet());
                common.retainAll(b.keySet());
                double[] x = p[0].nll(split, common), y = p[1].nll(split, common), d = new double[common.size()];
                for (int i = 0; i < d.length; i++) {
                    d[i] = x[i] - y[i];
                }
                Sample diff = Sample.of(d);
                sb.append("| ").append(p[0].name()).append(" | ").append(p[1].name()).append(" | ").append(split).append(" | ")
                        .append(common.size()).append(" | ").append(common.isEmpty() ? "-" : String.format("%+.2f", diff.mean())).append(" | ")
                        .append(se(diff.se())).append(" | ").append(se(Sample.unpairedSe(Sample.of(x), Sample.of(y)))).append(" |\n");
            }
        }
        return sb.append('\n').toString();
    }

    /** {@code mean (se)}, with a dash for an se that does not exist (fewer than two images). */
    private static String withSe(double mean, double se) {
        return cell(mean) + " (" + se(se) + ")";
    }

    private static String se(double se) {
        return Double.isNaN(se) ? "-" : cell(se);
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
        row(sb, "NLL (test)", evals, e -> field(e.test(), SplitResult::nll));
        row(sb, "NLL (train)", evals, e -> field(e.train(), SplitResult::nll));
        row(sb, "NVLB (test)", evals, e -> field(e.test(), SplitResult::nvlb));
        row(sb, "NVLB (train)", evals, e -> field(e.train(), SplitResult::nvlb));
        row(sb, "var gap", evals, e -> field(e.test(), SplitResult::varGap));
        row(sb, "gen gap", evals, EvalReport::genGap);
        row(sb, "active units", evals, e -> e.test() == null ? null : e.test().activeUnits());
        sb.append('\n');
        List<String> diverged = new ArrayList<>();
        for (EvalReport e : evals) {
            for (String split : List.of("test", "train")) {
                SplitResult r = e.split(split);
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
                gridRow(sb, "NLL (test)", cols, sd, e -> field(e.test(), SplitResult::nll));
                gridRow(sb, "NLL (train)", cols, sd, e -> field(e.train(), SplitResult::nll));
                gridRow(sb, "NVLB (test)", cols, sd, e -> field(e.test(), SplitResult::nvlb));
                gridRow(sb, "NVLB (train)", cols, sd, e -> field(e.train(), SplitResult::nvlb));
                gridRow(sb, "var gap", cols, sd, e -> field(e.test(), SplitResult::varGap));
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
            Sample sample = Sample.of(v.stream().mapToDouble(Double::doubleValue).toArray());
            sb.append(' ').append(cell(sample.mean()));
            if (sd) {
                sb.append(v.size() > 1 ? " (" + cell(sample.sd()) + ")" : " (-)");
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

    private static Double field(SplitResult s, java.util.function.ToDoubleFunction<SplitResult> f) {
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
