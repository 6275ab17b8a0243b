package org.aiwae.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.aiwae.AiwaeException;
import org.aiwae.io.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code aiwae table DIR...}: the evaluations of several runs as a Markdown table in the layout of the paper's Table 1. */
@Command(name = "table",
        description = {"Prints the evaluations of several runs as a Markdown table in the layout of the paper's Table 1: one column "
                + "per run folder (each needs an eval.json from 'aiwae eval'); rows NLL test/train, NVLB test/train, "
                + "var gap, gen gap, active units."})
final class TableCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", arity = "1..*", description = "run folders with an eval.json")
    List<Path> dirs;

    @Override
    public Integer call() {
        List<Map<String, Object>> evals = new ArrayList<>();
        for (Path d : dirs) {
            evals.add(read(d));
        }
        System.out.print(markdown(evals));
        return 0;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> read(Path dir) {
        Path f = dir.resolve("eval.json");
        if (!Files.isRegularFile(f)) {
            throw new AiwaeException(dir + " has no eval.json; run 'aiwae eval --checkpoint " + dir + "' first");
        }
        try {
            if (Json.parse(Files.readString(f)) instanceof Map<?, ?> m && m.get("config") instanceof Map) {
                return (Map<String, Object>) m;
            }
            throw new AiwaeException(f + " is not an evaluation written by 'aiwae eval'");
        } catch (IOException | IllegalArgumentException e) {
            throw new AiwaeException("cannot read " + f + ": " + e.getMessage());
        }
    }

    /** The table; a cell the evaluation did not measure (e.g. train NLL without --split both) is a dash. */
    @SuppressWarnings("unchecked")
    static String markdown(List<Map<String, Object>> evals) {
        StringBuilder sb = new StringBuilder("| |");
        for (Map<String, Object> e : evals) {
            Map<String, Object> c = (Map<String, Object>) e.get("config");
            String method = String.valueOf(c.get("method")).toUpperCase();
            sb.append(' ').append(method).append(" K=").append(num(c.get("samples")))
                    .append(method.equals("AIWAE") ? " T=" + num(c.get("temperatures")) : "").append(" |");
        }
        sb.append("\n| --- |").append(" ---: |".repeat(evals.size())).append('\n');
        row(sb, "NLL (test)", evals, e -> field(e, "test", "nll"));
        row(sb, "NLL (train)", evals, e -> field(e, "train", "nll"));
        row(sb, "NVLB (test)", evals, e -> field(e, "test", "nvlb"));
        row(sb, "NVLB (train)", evals, e -> field(e, "train", "nvlb"));
        row(sb, "var gap", evals, e -> field(e, "test", "var_gap"));
        row(sb, "gen gap", evals, e -> e.get("gen_gap"));
        row(sb, "active units", evals, e -> field(e, "test", "active_units"));
        sb.append('\n');
        note(sb, "Protocol", evals, TableCommand::protocol);
        note(sb, "Training", evals, TableCommand::training);
        return sb.toString();
    }

    /** One line when every column agrees, else the distinct values in column order. */
    private static void note(StringBuilder sb, String what, List<Map<String, Object>> evals, Function<Map<String, Object>, String> f) {
        List<String> distinct = new ArrayList<>();
        for (Map<String, Object> e : evals) {
            if (!distinct.contains(f.apply(e))) {
                distinct.add(f.apply(e));
            }
        }
        sb.append(distinct.size() == 1 ? what + ": " + distinct.get(0)
                : what + " differs between columns: " + String.join("; ", distinct)).append("\n\n");
    }

    @SuppressWarnings("unchecked")
    private static String training(Map<String, Object> e) {
        Map<String, Object> c = (Map<String, Object>) e.get("config");
        return c.get("dataset") + ", " + num(c.get("epochs")) + " epochs (" + c.get("schedule") + " schedule), latent "
                + num(c.get("latent")) + ", evaluated at epoch " + num(e.get("epoch"));
    }

    @SuppressWarnings("unchecked")
    private static String protocol(Map<String, Object> e) {
        Map<String, Object> p = (Map<String, Object>) e.get("protocol");
        Map<String, Object> t = (Map<String, Object>) e.get("test");
        String images = t == null ? "" : ", " + num(t.get("images")) + " images per split";
        String base = "AIS " + num(p.get("nll_chains")) + " chains x " + num(p.get("nll_temperatures")) + " temperatures, L="
                + num(p.get("nll_leapfrog")) + "; NVLB -L_" + num(p.get("nvlb_samples")) + images;
        return (Boolean.TRUE.equals(p.get("paper_protocol")) ? "the paper's (" : "reduced (") + base + ")";
    }

    @SuppressWarnings("unchecked")
    private static Object field(Map<String, Object> e, String split, String key) {
        return e.get(split) instanceof Map<?, ?> m ? ((Map<String, Object>) m).get(key) : null;
    }

    private static void row(StringBuilder sb, String name, List<Map<String, Object>> evals, Function<Map<String, Object>, Object> f) {
        sb.append("| ").append(name).append(" |");
        for (Map<String, Object> e : evals) {
            Object v = f.apply(e);
            sb.append(' ').append(v instanceof Double d ? (name.equals("active units") ? num(d) : String.format("%.2f", d)) : "-").append(" |");
        }
        sb.append('\n');
    }

    private static String num(Object v) {
        return v instanceof Double d && d == Math.rint(d) ? Long.toString(d.longValue()) : String.valueOf(v);
    }
}
