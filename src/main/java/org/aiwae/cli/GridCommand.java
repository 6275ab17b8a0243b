package org.aiwae.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.aiwae.AiwaeException;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;
import org.aiwae.train.Checkpoint;
import org.aiwae.train.RunLock;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code aiwae grid GRID.json}: the cells of a grid file (configuration x repeat) as Spark tasks. Each
 * task trains its cell into {@code RUNS/CONFIG/seed-S} (resuming a run folder that is already there)
 * and evaluates it into that folder's eval.json; a cell that has its eval.json is done and not run
 * again. The tables ({@code aiwae table RUNS}) are written to {@code RUNS/tables.md} at the end.
 */
@Command(name = "grid", header = "train and evaluate a grid of configurations x repeats on Apache Spark",
        description = {"Trains and evaluates every cell (configuration x repeat) of a grid file, one Spark task per cell: "
                + "in this process with local[N], or on a cluster (spark://..., k8s://..., yarn through spark-submit).",
                "A cell trains into RUNS/CONFIG/seed-S with resume semantics and then evaluates into its eval.json; "
                        + "rerunning the grid skips finished cells and resumes the others. The tables (the paper's Table 1 "
                        + "and Table 3 layouts) go to RUNS/tables.md. Grid files: docs/grids/."})
final class GridCommand implements Callable<Integer> {
    /** The grid file's copy in the runs folder; a rerun with a different grid there is refused. */
    static final String GRID = "grid.json";
    static final String TABLES = "tables.md";

    @Parameters(paramLabel = "GRID.json", description = "the grid file (see docs/grids/)")
    Path file;

    @Option(names = "--master", paramLabel = "URL", defaultValue = "local[*]",
            description = "Spark master: local[N] (N cells at once in this process), spark://HOST:7077, k8s://...; "
                    + "default: ${DEFAULT-VALUE} (under spark-submit: the one spark-submit gives)")
    String master;

    @Option(names = "--runs", paramLabel = "DIR",
            description = "where the cells' run folders go (a path every executor sees); default: runs/<grid name>")
    Path runs;

    @Option(names = "--dry-run", description = "print each cell's state (done, running, trained E of N epochs, not started) "
            + "and commands; start nothing, write nothing")
    boolean dryRun;

    @Option(names = "--conf", paramLabel = "KEY=VALUE",
            description = "a Spark setting, as spark-submit's --conf (repeatable): e.g. spark.eventLog.enabled=true, "
                    + "spark.executor.resource.gpu.amount=1 (docs/cluster.md)")
    Map<String, String> conf = new LinkedHashMap<>();

    @Spec
    CommandSpec spec;

    @Mixin
    DataDirOption dataDir;

    @Override
    public Integer call() throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AiwaeException("cannot read grid file " + file + ": " + e.getMessage());
        }
        GridSpec grid = Json.read(bytes, GridSpec.class, file.toString(), false);
        List<GridSpec.Cell> cells = grid.cells(file);
        Path root = OutPath.folder(spec, "--runs", runs != null ? runs : Path.of("runs", grid.name() == null ? "grid" : grid.name()))
                .toAbsolutePath();
        Path data = dataDir.dir == null ? null : dataDir.dir.toAbsolutePath();
        checkArguments(file, grid, cells, root, data);
        sparkSettings(spec, conf);
        if (dryRun) {
            for (GridSpec.Cell c : cells) {
                System.out.println(c.config() + "/seed-" + c.seed() + " (" + state(c.dir(root)) + ")\n  aiwae "
                        + String.join(" ", grid.trainArgs(c, root, data, true)) + "\n  aiwae " + String.join(" ", grid.evalArgs(c, root, data)));
            }
            System.out.println(cells.size() + " cells -> " + root);
            return 0;
        }
        claim(root, grid);

        String failOnce = System.getenv("AIWAE_TEST_FAIL_ONCE"); // test hooks: CONFIG/seed-S of one cell
        String pauseOnce = System.getenv("AIWAE_TEST_PAUSE_ONCE");
        List<TaskRunner.Task> tasks = new ArrayList<>();
        for (GridSpec.Cell c : cells) {
            Path dir = c.dir(root);
            if (Files.isRegularFile(dir.resolve(EvalCommand.REPORT))) {
                continue;
            }
            // --resume-if-started: a rerun, or Spark's retry of a failed attempt, continues the run folder it finds
            List<String> train = grid.trainArgs(c, root, data, true);
            if (failOnce != null && failOnce.equals(c.config() + "/seed-" + c.seed())) {
                train.addAll(List.of("--test-fail-once-after-epoch", "1"));
            }
            if (pauseOnce != null && pauseOnce.equals(c.config() + "/seed-" + c.seed())) {
                train.addAll(List.of("--test-pause-once-in-epoch", "2"));
            }
            tasks.add(new TaskRunner.Task(c.config() + "/seed-" + c.seed(), List.of(train, grid.evalArgs(c, root, data)),
                    dir.resolve(EvalCommand.REPORT).toString()));
        }
        List<String> failed = new ArrayList<>();
        if (tasks.isEmpty()) {
            System.err.println("aiwae: all " + cells.size() + " cells of " + file + " are done in " + root + "; nothing to run");
        } else {
            // one grid at a time in a folder: a second driver would start the same cells (the cells' own locks would
            // then fail its attempts one by one); it is refused here, in one line naming the first
            try (RunLock lock = RunLock.acquire(root, "grid folder")) {
                System.err.println("aiwae: " + tasks.size() + " of " + cells.size() + " cells to run (" + (cells.size() - tasks.size())
                        + " done) on " + master + " -> " + root);
                long start = System.nanoTime();
                List<TaskRunner.Outcome> outcomes;
                try (TaskRunner cluster = TaskRunner.open(master, "aiwae grid " + file.getFileName(), conf)) {
                    outcomes = cluster.run(tasks);
                }
                for (int i = 0; i < tasks.size(); i++) {
                    if (outcomes.get(i) instanceof TaskRunner.Outcome.Failed f) {
                        failed.add(tasks.get(i).name() + ": " + f.reason());
                    }
                }
                System.err.printf("aiwae: %d cells in %.1f s: %d done, %d failed%n", tasks.size(), (System.nanoTime() - start) / 1e9,
                        tasks.size() - failed.size(), failed.size());
            }
        }
        String tables = TableCommand.gridTables(root);
        Path tablesFile = root.resolve(TABLES);
        if (!Files.isRegularFile(tablesFile) || !Files.readString(tablesFile, StandardCharsets.UTF_8).equals(tables)) {
            AtomicFiles.writeString(tablesFile, tables); // a rerun that changed nothing leaves the file alone
        }
        System.out.print(tables);
        System.out.println("tables in " + root.resolve(TABLES));
        if (!failed.isEmpty()) {
            for (String f : failed) {
                System.err.println("aiwae: cell " + f);
            }
            System.err.println("aiwae: " + failed.size() + " of " + cells.size() + " cells failed (the tables leave them out); "
                    + "the same command runs them again, resuming");
            return 1;
        }
        return 0;
    }

    /** A cell's state for --dry-run: done, running (by whom), trained E of N epochs, or not started. */
    private static String state(Path dir) {
        if (Files.isRegularFile(dir.resolve(EvalCommand.REPORT))) {
            return "done";
        }
        String holder = RunLock.holder(dir);
        if (!Files.isRegularFile(dir.resolve(Checkpoint.CONFIG))) {
            return holder == null ? "not started" : "starting: " + holder;
        }
        String trained = "trained " + Checkpoint.latestEpoch(dir) + " of " + Checkpoint.readConfig(dir).epochs() + " epochs";
        if (holder != null) {
            return "running: " + holder + ", " + trained;
        }
        return trained + (Files.exists(dir.resolve(EvalCommand.resultsName("test"))) || Files.exists(dir.resolve(EvalCommand.resultsName("train")))
                ? ", evaluation begun" : "");
    }

    /** --conf: Spark settings only ({@code spark.*}), each KEY=VALUE. */
    static void sparkSettings(CommandSpec spec, Map<String, String> conf) {
        for (String key : conf.keySet()) {
            if (!key.startsWith("spark.")) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--conf takes Spark settings (spark.KEY=VALUE), got '"
                        + key + "'");
            }
        }
    }

    /**
     * Every cell's command lines parse and give a valid training configuration and evaluation protocol
     * (a bad value in the grid file is one line here, not a failed task).
     */
    private static void checkArguments(Path file, GridSpec grid, List<GridSpec.Cell> cells, Path root, Path data) {
        for (GridSpec.Cell c : cells) {
            for (List<String> args : List.of(grid.trainArgs(c, root, data, false), grid.evalArgs(c, root, data))) {
                try {
                    CommandLine.ParseResult parsed = Main.commandLine().parseArgs(args.toArray(String[]::new));
                    Object command = parsed.subcommand().commandSpec().userObject();
                    if (command instanceof TrainCommand t) {
                        t.freshConfig();
                    } else if (command instanceof EvalCommand e) {
                        e.options();
                    }
                } catch (CommandLine.ParameterException e) {
                    throw new AiwaeException(file + ": cell " + c.config() + ": " + Main.oneLine(e.getMessage()));
                }
            }
        }
    }

    /** Creates the runs folder with the grid's copy, or checks that the copy there is this grid. */
    private static void claim(Path root, GridSpec grid) throws IOException {
        Path copy = root.resolve(GRID);
        String text = Json.write(grid) + "\n";
        if (Files.isRegularFile(copy)) {
            String was = Files.readString(copy, StandardCharsets.UTF_8);
            if (!was.equals(text)) {
                throw new AiwaeException(root + " holds a different grid (" + copy + "); choose another --runs");
            }
            return;
        }
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new AiwaeException("cannot create --runs " + root + ": " + e.getMessage());
        }
        AtomicFiles.writeString(copy, text);
    }
}
