package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import com.fasterxml.jackson.databind.JsonNode;
import org.aiwae.io.Json;
import org.aiwae.train.CheckpointFiles;
import org.aiwae.train.InjectedFaults;
import org.aiwae.train.TrainConfig;
import org.aiwae.train.TrainSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code aiwae grid} on {@code local[2]} in fresh JVMs: a 2 configurations x 2 repeats grid trains and
 * evaluates every cell and writes the tables; a cell whose first attempt fails after its first epoch's
 * checkpoint is retried by Spark and resumes from that checkpoint (its model equals an uninterrupted
 * training's bytes); rerunning the grid runs nothing and changes no file.
 */
class GridTest {
    @TempDir
    Path dir;

    private static final String GRID = """
            {"name": "test", "datasets": ["embedded"],
             "methods": [{"method": "iwae", "k": [1, 2]}],
             "repeats": 2, "seed": 3,
             "train": {"epochs": 2, "latent": 4, "hidden": 16, "train_limit": 60, "eval_samples": 5, "eval_images": 20},
             "eval": {"limit": 4, "nll_chains": 2, "nll_temperatures": 10, "nll_leapfrog": 2, "nvlb_samples": 10}}
            """;

    @Test
    void gridRunsEveryCellRetriesAFailedOneAndSkipsFinishedOnes() throws Exception {
        Path grid = dir.resolve("grid.json"), runs = dir.resolve("runs"), log = dir.resolve("log");
        Files.writeString(grid, GRID);
        List<String> args = List.of("grid", grid.toString(), "--master", "local[2]", "--runs", runs.toString());
        assertEquals(0, SparkJvm.run(args, log, Map.of(),
                        List.of(InjectedFaults.option(InjectedFaults.failAfterEpoch(1, "embedded-iwae-k2/seed-4")))),
                () -> ShardedEvalTest.read(log));
        String out = ShardedEvalTest.read(log);
        assertTrue(out.contains("4 of 4 cells to run"), out);
        assertTrue(out.contains("injected failure after epoch 1"), "the injected failure happened: " + out);
        for (String cell : List.of("embedded-iwae-k1/seed-3", "embedded-iwae-k1/seed-4", "embedded-iwae-k2/seed-3",
                "embedded-iwae-k2/seed-4")) {
            assertTrue(Files.isRegularFile(runs.resolve(cell).resolve("eval.json")), cell + " has no eval.json: " + out);
        }
        Path failed = runs.resolve("embedded-iwae-k2/seed-4");
        assertTrue(Files.exists(failed.resolve(InjectedFaults.FAILED)));
        String tables = Files.readString(runs.resolve(GridCommand.TABLES));
        assertTrue(tables.contains("Table 1 layout") && tables.contains("Table 3 layout"), tables);
        assertTrue(tables.contains("| IWAE K=1 | IWAE K=2 |"), tables);
        assertTrue(tables.matches("(?s).*\\| NLL \\(test\\) \\| [0-9.]+ \\([0-9.]+\\) \\| [0-9.]+ \\([0-9.]+\\) \\|.*"), tables);
        assertTrue(tables.contains("| repeats evaluated | 2 | 2 |"), tables);
        assertTrue(tables.contains("Protocol: reduced (AIS 2 chains x 10 temperatures, L=2; NVLB -L_10, 4 images per split)"), tables);

        // the retried cell resumed from its epoch-1 checkpoint: the same model as a training never interrupted
        Path twin = dir.resolve("twin");
        assertEquals(0, SparkJvm.run(List.of("train", "--dataset", "embedded", "--method", "iwae", "--samples", "2", "--seed", "4",
                "--epochs", "2", "--latent", "4", "--hidden", "16", "--train-limit", "60", "--eval-samples", "5", "--eval-images", "20",
                "--out", twin.toString()), log, Map.of()), () -> ShardedEvalTest.read(log));
        assertArrayEquals(Files.readAllBytes(twin.resolve("model.safetensors")), Files.readAllBytes(failed.resolve("model.safetensors")));
        assertEquals(Files.readString(twin.resolve("metrics.jsonl")), Files.readString(failed.resolve("metrics.jsonl")));

        // a dry run says every cell is done
        CliRun dry = CliRun.of("grid", grid.toString(), "--dry-run", "--runs", runs.toString());
        assertEquals(4, dry.out().lines().filter(l -> l.matches("embedded-iwae-k[12]/seed-[34] \\(done\\)")).count(), dry.out());

        // a rerun finds every cell done: no task, no file changed
        Map<Path, String> before = snapshot(runs);
        assertEquals(0, SparkJvm.run(args, log, Map.of()), () -> ShardedEvalTest.read(log));
        assertTrue(ShardedEvalTest.read(log).contains("all 4 cells"), ShardedEvalTest.read(log));
        assertEquals(before, snapshot(runs));

        // aiwae table over the grid's folder prints the same tables
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        System.setOut(new java.io.PrintStream(buf, true));
        try {
            assertEquals(0, Main.run(new String[] {"table", runs.toString()}));
        } finally {
            System.setOut(old);
        }
        assertEquals(tables, buf.toString());
    }

    /**
     * --cells, --train-only and --eval-only split a grid's work: the selected cells train and evaluate nothing, then
     * the trained ones evaluate and the untrained are listed and skipped; --dry-run --json says each cell's state and
     * what a run would start; table --se gives the paired standard errors of the differences, computed here again from
     * the per-image lines.
     */
    @Test
    void cellsTrainOnlyEvalOnlyJsonDryRunAndPairedErrors() throws Exception {
        Path grid = dir.resolve("grid.json"), runs = dir.resolve("runs"), log = dir.resolve("log");
        Files.writeString(grid, GRID);
        String g = grid.toString(), r = runs.toString();
        JsonNode plan = dryRunJson(g, "--runs", r, "--cells", "embedded-iwae-k1/*", "--train-only");
        assertEquals(List.of("embedded-iwae-k1/seed-3", "embedded-iwae-k1/seed-4"), texts(plan.get("cells"), "cell"));
        JsonNode first = plan.get("cells").get(0);
        assertEquals("not_started", first.get("state").asText());
        assertEquals("[\"train\"]", first.get("will_run").toString());
        assertEquals(List.of("train", "--dataset", "embedded", "--method", "iwae", "--samples", "1", "--seed", "3"),
                texts(first.get("train"), null).subList(0, 9));
        assertEquals(runs.resolve("embedded-iwae-k1/seed-3").toAbsolutePath().toString(), first.get("dir").asText());
        assertTrue(first.get("t").isNull() && first.get("epochs_trained").isNull(), first.toString());
        assertTrue(!Files.exists(runs), "a dry run writes nothing");

        assertEquals(0, SparkJvm.run(List.of("grid", g, "--master", "local[2]", "--runs", r, "--cells", "embedded-iwae-k1/*", "--train-only"),
                log, Map.of()), () -> ShardedEvalTest.read(log));
        for (String seed : List.of("seed-3", "seed-4")) {
            assertTrue(Files.isRegularFile(runs.resolve("embedded-iwae-k1").resolve(seed).resolve("model.safetensors")), seed);
            assertTrue(!Files.exists(runs.resolve("embedded-iwae-k1").resolve(seed).resolve("eval.json")), "--train-only evaluated " + seed);
        }
        assertTrue(!Files.exists(runs.resolve("embedded-iwae-k2")), "a cell --cells did not select was started");

        plan = dryRunJson(g, "--runs", r, "--eval-only");
        assertEquals(List.of("trained", "trained", "not_started", "not_started"), texts(plan.get("cells"), "state"));
        assertEquals(List.of("[\"eval\"]", "[\"eval\"]", "[]", "[]"),
                java.util.stream.StreamSupport.stream(plan.get("cells").spliterator(), false).map(c -> c.get("will_run").toString()).toList());
        assertEquals(2, plan.get("cells").get(0).get("epochs_trained").asInt());
        assertEquals(2, plan.get("cells").get(0).get("epochs").asInt());

        assertEquals(0, SparkJvm.run(List.of("grid", g, "--master", "local[2]", "--runs", r, "--eval-only"), log, Map.of()),
                () -> ShardedEvalTest.read(log));
        String out = ShardedEvalTest.read(log);
        assertTrue(out.contains("--eval-only: skipping embedded-iwae-k2/seed-3 (not started): its training is not complete"), out);
        assertTrue(Files.isRegularFile(runs.resolve("embedded-iwae-k1/seed-4/eval.json")), out);
        assertTrue(!Files.exists(runs.resolve("embedded-iwae-k2")), "--eval-only trained a cell");
        assertEquals(List.of("done", "done", "not_started", "not_started"), texts(dryRunJson(g, "--runs", r).get("cells"), "state"));

        // table --se over two runs: the second against the first, over the same 4 test images
        Path a = runs.resolve("embedded-iwae-k1/seed-3"), b = runs.resolve("embedded-iwae-k1/seed-4");
        CliRun se = CliRun.of("table", "--se", a.toString(), b.toString());
        assertEquals(0, se.status(), se.err());
        double[] da = nll(a), db = nll(b), diff = new double[4];
        double mean = 0;
        for (int i = 0; i < 4; i++) {
            diff[i] = db[i] - da[i];
            mean += diff[i] / 4;
        }
        double ss = 0;
        for (double d : diff) {
            ss += (d - mean) * (d - mean);
        }
        String row = "| " + b + " | " + a + " | test | 4 | " + String.format("%+.2f", mean) + " | " + String.format("%.2f", Math.sqrt(ss / 3) / 2) + " |";
        assertTrue(se.out().contains(row), row + " in\n" + se.out());
        assertTrue(se.out().contains("| " + a + " | 4 | "), se.out());

        // over a grid folder: an AIWAE cell against the IWAE cell of the same dataset, K and seed
        Path pairs = dir.resolve("pairs");
        Files.createDirectories(pairs.resolve("embedded-aiwae-k1-t5-l5"));
        Files.writeString(pairs.resolve(GridCommand.GRID), Json.write(Json.read(GRID.replace("\"k\": [1, 2]}",
                "\"k\": [1]}, {\"method\": \"aiwae\", \"k\": [1], \"repeats\": 1}").getBytes(), GridSpec.class, "grid", false)));
        CheckpointFiles.copy(a, pairs.resolve("embedded-iwae-k1/seed-3"));
        CheckpointFiles.copy(b, pairs.resolve("embedded-iwae-k1/seed-4"));
        CheckpointFiles.copy(b, pairs.resolve("embedded-aiwae-k1-t5-l5/seed-3"));
        CliRun gse = CliRun.of("table", "--se", pairs.toString());
        assertEquals(0, gse.status(), gse.err());
        assertTrue(gse.out().contains("| embedded-aiwae-k1-t5-l5/seed-3 | embedded-iwae-k1/seed-3 | test | 4 | "
                + String.format("%+.2f", mean) + " | "), gse.out());

        // --se needs the per-image lines: without them, one line naming the file
        Files.delete(b.resolve("eval-test.jsonl"));
        CliRun missing = CliRun.of("table", "--se", a.toString(), b.toString());
        assertEquals(2, missing.status());
        assertEquals(1, missing.err().lines().count(), missing.err());
        assertTrue(missing.err().contains(b.resolve("eval-test.jsonl").toString()), missing.err());
        Files.writeString(b.resolve("eval-test.jsonl"), "not json\n{\"image\":0}\n");
        CliRun corrupt = CliRun.of("table", "--se", a.toString(), b.toString());
        assertEquals(2, corrupt.status());
        assertTrue(corrupt.err().contains(b.resolve("eval-test.jsonl").toString()) && corrupt.err().lines().count() == 1, corrupt.err());
    }

    /** Impossible combinations and patterns of the grid flags: one line naming the flag, status 2, nothing written. */
    @Test
    void badGridFlagsAreOneLineNamingTheFlag() throws Exception {
        Path grid = dir.resolve("grid.json"), runs = dir.resolve("runs");
        Files.writeString(grid, GRID);
        Map<String, List<String>> cases = new java.util.LinkedHashMap<>();
        cases.put("--train-only", List.of("--train-only", "--eval-only"));
        cases.put("--json", List.of("--json"));
        cases.put("--cells", List.of("--cells", "embedded-vae-*"));
        cases.put("--cells:", List.of("--cells", ""));
        for (var e : cases.entrySet()) {
            List<String> args = new java.util.ArrayList<>(List.of("grid", grid.toString(), "--runs", runs.toString()));
            args.addAll(e.getValue());
            CliRun run = CliRun.of(args);
            assertEquals(2, run.status(), e.getValue() + ": " + run.err());
            assertEquals(1, run.err().lines().count(), run.err());
            assertTrue(run.err().contains(e.getKey().replace(":", "")), e.getKey() + " not named: " + run.err());
            assertTrue(run.out().isEmpty() && !Files.exists(runs), e.getValue() + " wrote something");
        }
    }

    private JsonNode dryRunJson(String grid, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("grid", grid, "--dry-run", "--json"));
        args.addAll(List.of(more));
        CliRun run = CliRun.of(args);
        assertEquals(0, run.status(), run.err());
        assertEquals(1, run.out().lines().count(), run.out());
        return Json.tree(run.out().getBytes(java.nio.charset.StandardCharsets.UTF_8), "dry run");
    }

    private static List<String> texts(JsonNode array, String field) {
        return java.util.stream.StreamSupport.stream(array.spliterator(), false).map(n -> (field == null ? n : n.get(field)).asText()).toList();
    }

    /** The test NLLs of a run's per-image lines, in image order (the header line skipped). */
    private static double[] nll(Path run) throws Exception {
        return Files.readAllLines(run.resolve("eval-test.jsonl")).stream().skip(1)
                .mapToDouble(l -> Json.tree(l.getBytes(java.nio.charset.StandardCharsets.UTF_8), "line").get("nll").asDouble()).toArray();
    }

    @Test
    void aBadGridFileIsOneLine() throws Exception {
        Path grid = dir.resolve("bad.json");
        Files.writeString(grid, GRID.replace("\"repeats\": 2", "\"repeats\": 0"));
        assertEquals(2, Main.run(new String[] {"grid", grid.toString(), "--runs", dir.resolve("r").toString()}));
        Files.writeString(grid, GRID.replace("\"k\": [1, 2]", "\"k\": [1, 2], \"temperature\": [5]"));
        assertEquals(2, Main.run(new String[] {"grid", grid.toString(), "--runs", dir.resolve("r").toString()}));
        Files.writeString(grid, GRID.replace("\"k\": [1, 2]", "\"k\": [1, 2], \"repeats\": 0"));
        assertEquals(2, Main.run(new String[] {"grid", grid.toString(), "--runs", dir.resolve("r").toString()}));
        Files.writeString(grid, GRID.replace("\"epochs\": 2", "\"epochs\": -2"));
        assertEquals(2, Main.run(new String[] {"grid", grid.toString(), "--runs", dir.resolve("r").toString()}));
        assertTrue(!Files.exists(dir.resolve("r")), "nothing is written for a bad grid");
    }

    /** A method entry's own repeats replaces the grid's for its configurations only. */
    @Test
    void aMethodsOwnRepeatsReplaceTheGrids() throws Exception {
        Path grid = dir.resolve("per-method.json");
        Files.writeString(grid, GRID.replace("\"k\": [1, 2]}", "\"k\": [1], \"repeats\": 3}, {\"method\": \"iwae\", \"k\": [2]}")
                .replace("\"repeats\": 2,", "\"repeats\": 1,"));
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        System.setOut(new java.io.PrintStream(buf, true));
        try {
            assertEquals(0, Main.run(new String[] {"grid", grid.toString(), "--dry-run", "--runs", dir.resolve("r").toString()}));
        } finally {
            System.setOut(old);
        }
        List<String> cells = buf.toString().lines().filter(l -> l.startsWith("embedded-")).toList();
        assertEquals(List.of("embedded-iwae-k1/seed-3 (not started)", "embedded-iwae-k1/seed-4 (not started)",
                "embedded-iwae-k1/seed-5 (not started)", "embedded-iwae-k2/seed-3 (not started)"), cells, buf.toString());
    }

    /** The grid files shipped in docs/grids/ are valid: every cell's commands parse and check (a dry run). */
    @Test
    void shippedGridFilesAreValid() throws Exception {
        Map<String, Integer> cells = Map.of("paper-tables-1-4.json", 2 * (3 + 9) * 5, "paper-posterior-2d.json", 3, "small.json", 8,
                "repro-fair-mnist.json", 3 + 3 + 2 + 1 + 1, "repro-fair-fashion.json", 2, "repro-fair-posterior-2d.json", 2);
        for (var e : cells.entrySet()) {
            Path grid = Path.of("..", "docs", "grids", e.getKey());
            CliRun dry = CliRun.of("grid", grid.toString(), "--dry-run", "--runs", dir.resolve("r").toString());
            assertEquals(0, dry.status(), dry.err());
            assertTrue(dry.out().contains(e.getValue() + " cells -> "), e.getKey() + ": " + dry.out());
        }
        assertTrue(!Files.exists(dir.resolve("r")), "a dry run writes nothing");
    }

    /** Every key of a grid file's train and eval sections reaches the cell's command as the flag of the same name. */
    @Test
    void everyGridKeyIsTheFlagOfTheSameName() {
        GridSpec g = new GridSpec("all", List.of("embedded"), List.of(new GridSpec.Methods("aiwae", List.of(2), List.of(3), List.of(4), null)),
                1, 7L, new GridSpec.Train(3, "short", null, 4, 16, 10, 60, 5, 20), new GridSpec.Eval("both", 4, 2, 10, 2, 11, 3, 9L), "cpu");
        GridSpec.Cell cell = g.cells(Path.of("all.json")).get(0);
        TrainConfig t = ((TrainCommand) command(g.trainArgs(cell, dir, null, true))).freshConfig();
        assertEquals(List.of(3, TrainSchedule.SHORT, 4, 16, 10, 60, 5, 20, 2, 3, 4, 7L),
                List.of(t.epochs(), t.schedule(), t.latent(), t.hidden(), t.batchSize(), t.trainLimit(), t.evalSamples(), t.evalImages(),
                        t.samples(), t.temperatures(), t.leapfrog(), t.seed()));
        EvalCommand.Options e = ((EvalCommand) command(g.evalArgs(cell, dir, null))).options();
        assertEquals(List.of(List.of("test", "train"), 4, 2, 10, 2, 11, 3, 9L),
                List.of(e.splits(), e.limit(), e.chains(), e.temperatures(), e.leapfrog(), e.nvlbSamples(), e.batch(), e.seed()));
    }

    private static Object command(List<String> args) {
        return Main.commandLine().parseArgs(args.toArray(String[]::new)).subcommand().commandSpec().userObject();
    }

    /** Every file under {@code root} with its modification time and a hash of its bytes. */
    private static Map<Path, String> snapshot(Path root) throws Exception {
        Map<Path, String> m = new TreeMap<>();
        try (var files = Files.walk(root)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                FileTime t = Files.getLastModifiedTime(p);
                m.put(root.relativize(p), t + " " + java.util.Arrays.hashCode(Files.readAllBytes(p)));
            }
        }
        return m;
    }
}
