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
        assertEquals(0, SparkJvm.run(args, log, Map.of("AIWAE_TEST_FAIL_ONCE", "embedded-iwae-k2/seed-4")),
                () -> ShardedEvalTest.read(log));
        String out = ShardedEvalTest.read(log);
        assertTrue(out.contains("4 of 4 cells to run"), out);
        assertTrue(out.contains("injected failure after epoch 1"), "the injected failure happened: " + out);
        for (String cell : List.of("embedded-iwae-k1/seed-3", "embedded-iwae-k1/seed-4", "embedded-iwae-k2/seed-3",
                "embedded-iwae-k2/seed-4")) {
            assertTrue(Files.isRegularFile(runs.resolve(cell).resolve("eval.json")), cell + " has no eval.json: " + out);
        }
        Path failed = runs.resolve("embedded-iwae-k2/seed-4");
        assertTrue(Files.exists(failed.resolve(".test-failed-once")));
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
