package org.aiwae.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.aiwae.AiwaeException;
import org.aiwae.data.Binarizer;
import org.aiwae.data.Datasets;
import org.aiwae.data.Images;
import org.aiwae.data.Split;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.eval.Bounds;
import org.aiwae.eval.Evaluator;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;
import org.aiwae.train.Checkpoint;
import org.aiwae.train.Streams;

/** {@code aiwae eval}: NLL by AIS, NVLB, gaps and active units of a run folder, into {@code eval.json}. */
final class EvalCommand {
    static final String USAGE = """
            usage: aiwae eval --checkpoint DIR [--data-dir DIR] [--split test|train|both] [--limit N]
                              [--nll-chains 16] [--nll-temperatures 10000] [--nll-leapfrog 10] [--nvlb-samples 5000]
                              [--seed S] [--backend cpu]
              Defaults are the paper's protocol; the flags reduce it, and eval.json records what was used.""";
    private static final Set<String> OPTIONS = Set.of("--checkpoint", "--data-dir", "--split", "--limit", "--nll-chains",
            "--nll-temperatures", "--nll-leapfrog", "--nvlb-samples", "--seed", "--backend", "--batch");

    private EvalCommand() {}

    static int run(String[] argv) throws Exception {
        Args a = new Args("eval", argv, 1, OPTIONS, Set.of());
        Path dir = a.path("--checkpoint");
        if (dir == null) {
            throw new AiwaeException("eval needs --checkpoint DIR (a training run folder)");
        }
        String split = a.string("--split", "test");
        if (!List.of("test", "train", "both").contains(split)) {
            throw new AiwaeException("unknown split '" + split + "'; choose test, train or both");
        }
        int limit = a.integer("--limit", 0);
        if (limit < 0) {
            throw new AiwaeException("--limit must be positive, got " + limit);
        }
        Backend backend = BackendChoice.resolve(a.string("--backend", "cpu"));
        Backends.use(backend);
        Evaluator ev = new Evaluator(a.integer("--nll-chains", 16), a.integer("--nll-temperatures", 10_000),
                a.integer("--nll-leapfrog", 10), a.integer("--nvlb-samples", 5000), a.integer("--batch", 100), backend);
        long seed = a.longValue("--seed", 0);
        Checkpoint.Loaded run = Checkpoint.readModel(dir);
        Split data = Datasets.load(run.config().dataset(), a.path("--data-dir"));
        long start = System.nanoTime();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("checkpoint", dir.toString());
        report.put("dataset", run.config().dataset());
        report.put("method", run.config().method());
        report.put("config", run.config().toMap());
        report.put("epoch", run.epoch());
        report.put("protocol", ev.protocol());
        Map<String, Double> nll = new LinkedHashMap<>();
        for (String s : split.equals("both") ? List.of("test", "train") : List.of(split)) {
            Images images = s.equals("test") ? data.test() : data.train();
            if (limit > 0) {
                images = images.limit(limit);
            }
            Tensor x = Binarizer.sample(images.slice(0, images.count()), Streams.of(seed, Streams.EVAL_DATA, s.equals("test") ? 1 : 2, 0));
            double[] lp = ev.logLikelihood(run.model(), x, Streams.of(seed, Streams.EVAL, 1, s.equals("test") ? 1 : 2), System.err,
                    "NLL(" + s + ") AIS");
            double[] lb = ev.bound(run.model(), x, Streams.of(seed, Streams.EVAL, 2, s.equals("test") ? 1 : 2));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("images", images.count());
            m.put("nll", -Bounds.mean(lp));
            m.put("nvlb", -Bounds.mean(lb));
            m.put("var_gap", -Bounds.mean(lb) + Bounds.mean(lp));
            if (s.equals("test")) {
                double[] act = Evaluator.activity(run.model(), images.slice(0, images.count()));
                m.put("active_units", Evaluator.activeUnits(act));
                m.put("activity", act);
            }
            nll.put(s, -Bounds.mean(lp));
            report.put(s, m);
        }
        if (nll.size() == 2) {
            report.put("gen_gap", nll.get("test") - nll.get("train"));
        }
        report.put("seconds", (System.nanoTime() - start) / 1e9);
        AtomicFiles.writeString(dir.resolve("eval.json"), Json.write(report) + "\n");
        System.out.println(table(report));
        return 0;
    }

    @SuppressWarnings("unchecked")
    private static String table(Map<String, Object> r) {
        StringBuilder sb = new StringBuilder();
        for (String s : List.of("test", "train")) {
            if (r.get(s) instanceof Map<?, ?> m0) {
                Map<String, Object> m = (Map<String, Object>) m0;
                sb.append(String.format("%-6s images %6d  NLL %8.3f  NVLB %8.3f  var gap %6.3f%s%n", s, m.get("images"),
                        m.get("nll"), m.get("nvlb"), m.get("var_gap"),
                        m.containsKey("active_units") ? "  active units " + m.get("active_units") : ""));
            }
        }
        if (r.containsKey("gen_gap")) {
            sb.append(String.format("gen gap %.3f%n", (Double) r.get("gen_gap")));
        }
        sb.append("protocol ").append(Json.write(r.get("protocol")));
        return sb.toString();
    }
}
