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
import org.aiwae.eval.Evaluation;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;
import org.aiwae.train.Checkpoints;
import org.aiwae.train.RunFolder;
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

    @Option(names = "--json", description = "with --dry-run: one JSON document on stdout instead (the grid, and per selected cell "
            + "its name, hyperparameters, folder, state, epochs, the train and eval argument lists and which of them a run would start)")
    boolean json;

    @Option(names = "--cells", paramLabel = "GLOB", split = ",",
            description = "only the cells whose name CONFIG/seed-S matches one of these patterns (* any characters, ? one; "
                    + "comma-separated or repeated), e.g. 'mnist-aiwae-k5-*/seed-0'; each pattern must match a cell")
    List<String> cellPatterns;

    @Option(names = "--train-only", description = "train (or resume) the selected cells and evaluate none; cells whose training "
            + "is complete are skipped")
    boolean trainOnly;

    @Option(names = "--eval-only", description = "evaluate the selected cells whose training is complete and train none; "
            + "cells not fully trained are listed and skipped")
    boolean evalOnly;

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
        if (trainOnly && evalOnly) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--train-only and --eval-only exclude each other");
        }
        if (json && !dryRun) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--json needs --dry-run (it describes the cells, it runs nothing)");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AiwaeException("cannot read grid file " + file + ": " + e.getMessage());
        }
        GridSpec grid = Json.read(bytes, GridSpec.class, file.toString(), false);
        List<GridSpec.Cell> cells = select(spec, file, grid.cells(file), cellPatterns);
        Path root = OutPath.folder(spec, "--runs", runs != null ? runs : Path.of("runs", grid.name() == null ? "grid" : grid.name()))
                .toAbsolutePath();
        Path data = dataDir.dir == null ? null : dataDir.dir.toAbsolutePath();
        checkArguments(file, grid, cells, root, data);
        sparkSettings(spec, conf);
        if (dryRun) {
            if (json) {
                List<DryRun.Cell> plan = new ArrayList<>();
                for (GridSpec.Cell c : cells) {
                    CellState st = CellState.of(c.dir(root));
                    plan.add(new DryRun.Cell(c.name(), c.dataset(), c.method(), c.k(), c.t(), c.l(), c.seed(), c.dir(root).toString(),
                            st.phase().key(), st.holder(), st.epochsTrained(), st.epochs(), st.evaluationBegun(),
                            grid.trainArgs(c, root, data, true), grid.evalArgs(c, root, data), steps(st).stream().map(Step::key).toList()));
                }
                System.out.println(Json.write(new DryRun(file.toString(), grid.name(), root.toString(), plan)));
                return 0;
            }
            for (GridSpec.Cell c : cells) {
                System.out.println(c.name() + " (" + CellState.of(c.dir(root)).describe() + ")\n  aiwae "
                        + String.join(" ", grid.trainArgs(c, root, data, true)) + "\n  aiwae " + String.join(" ", grid.evalArgs(c, root, data)));
            }
            System.out.println(cells.size() + " cells -> " + root);
            return 0;
        }
        claim(root, grid);

        List<TaskRunner.Task> tasks = new ArrayList<>();
        List<String> untrained = new ArrayList<>();
        for (GridSpec.Cell c : cells) {
            Path dir = c.dir(root);
            CellState st = CellState.of(dir);
            List<Step> steps = steps(st);
            if (evalOnly && st.phase().compareTo(Phase.TRAINED) < 0) {
                untrained.add(c.name() + " (" + st.describe() + ")");
            }
            if (steps.isEmpty()) {
                continue;
            }
            List<List<String>> commands = new ArrayList<>();
            if (steps.contains(Step.TRAIN)) {
                // --resume-if-started: a rerun, or Spark's retry of a failed attempt, continues the run folder it finds
                commands.add(grid.trainArgs(c, root, data, true));
            }
            if (steps.contains(Step.EVAL)) {
                commands.add(grid.evalArgs(c, root, data));
            }
            tasks.add(new TaskRunner.Task(c.name(), new Commands(c.name(), commands,
                    steps.contains(Step.EVAL) ? dir.resolve(EvalCommand.REPORT).toString() : null)));
        }
        for (String u : untrained) {
            System.err.println("aiwae: --eval-only: skipping " + u + ": its training is not complete");
        }
        List<String> failed = new ArrayList<>();
        if (tasks.isEmpty()) {
            System.err.println("aiwae: " + (evalOnly ? "of the " + cells.size() + " cells of " + file + " in " + root + ", "
                    + (cells.size() - untrained.size()) + " are done and " + untrained.size() + " not trained"
                    : "all " + cells.size() + " cells of " + file + " are " + (trainOnly ? "trained" : "done") + " in " + root) + "; nothing to run");
        } else {
            // one grid at a time in a folder: a second driver would start the same cells (the cells' own locks would
            // then fail its attempts one by one); it is refused here, in one line naming the first
            try (RunLock lock = RunLock.acquire(root, "grid folder")) {
                System.err.println("aiwae: " + tasks.size() + " of " + cells.size() + " cells to " + (trainOnly ? "train" : evalOnly ? "evaluate" : "run")
                        + " (" + (cells.size() - tasks.size()) + (trainOnly ? " trained" : evalOnly ? " done or not trained" : " done") + ") on "
                        + master + " -> " + root);
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

    /** Where a cell stands, in the order a cell goes through them. */
    enum Phase {
        NOT_STARTED, PARTLY_TRAINED, TRAINED, DONE;

        /** The name in {@code --dry-run --json}: {@code not_started}, {@code partly_trained}, {@code trained}, {@code done}. */
        String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What a grid run does for a cell. */
    enum Step {
        TRAIN, EVAL;

        String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * A cell's folder as found: its phase, the process holding its lock (null: none), the epochs trained and
     * configured (null before its config.json exists) and whether an evaluation has written results.
     */
    record CellState(Phase phase, String holder, Integer epochsTrained, Integer epochs, boolean evaluationBegun) {
        static CellState of(Path dir) {
            String holder = RunLock.holder(dir);
            if (Files.isRegularFile(dir.resolve(EvalCommand.REPORT))) {
                return new CellState(Phase.DONE, holder, null, null, true);
            }
            if (!Files.isRegularFile(dir.resolve(RunFolder.CONFIG))) {
                return new CellState(Phase.NOT_STARTED, holder, null, null, false);
            }
            int trained = Checkpoints.latestEpoch(dir), epochs = RunFolder.readConfig(dir).epochs();
            boolean begun = Files.exists(dir.resolve(Evaluation.resultsName("test"))) || Files.exists(dir.resolve(Evaluation.resultsName("train")));
            return new CellState(trained >= epochs ? Phase.TRAINED : Phase.PARTLY_TRAINED, holder, trained, epochs, begun);
        }

        /** For --dry-run: done, running (by whom), trained E of N epochs, or not started. */
        String describe() {
            return switch (phase) {
                case DONE -> "done";
                case NOT_STARTED -> holder == null ? "not started" : "starting: " + holder;
                case PARTLY_TRAINED, TRAINED -> {
                    String trained = "trained " + epochsTrained + " of " + epochs + " epochs";
                    yield holder != null ? "running: " + holder + ", " + trained : trained + (evaluationBegun ? ", evaluation begun" : "");
                }
            };
        }
    }

    /** What a run of the grid does now for a cell in this state: train then evaluate, or only one of them (--train-only, --eval-only). */
    private List<Step> steps(CellState st) {
        if (st.phase() == Phase.DONE) {
            return List.of();
        }
        if (trainOnly) {
            return st.phase() == Phase.TRAINED ? List.of() : List.of(Step.TRAIN);
        }
        if (evalOnly) {
            return st.phase() == Phase.TRAINED ? List.of(Step.EVAL) : List.of();
        }
        return List.of(Step.TRAIN, Step.EVAL);
    }

    /**
     * --cells: the cells whose name matches one of the glob patterns, in grid order; an empty pattern or one
     * that matches no cell is one line naming --cells. No patterns: every cell.
     */
    static List<GridSpec.Cell> select(CommandSpec spec, Path file, List<GridSpec.Cell> cells, List<String> patterns) {
        if (patterns == null) {
            return cells;
        }
        List<java.util.regex.Pattern> globs = new ArrayList<>();
        for (String p : patterns.isEmpty() ? List.of("") : patterns) {
            if (p.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--cells: an empty pattern (cells are named CONFIG/seed-S, e.g. "
                        + cells.get(0).name() + ")");
            }
            java.util.regex.Pattern glob = glob(p);
            if (cells.stream().noneMatch(c -> glob.matcher(c.name()).matches())) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--cells: '" + p + "' matches no cell of " + file
                        + " (cells are named CONFIG/seed-S, e.g. " + cells.get(0).name() + "; 'aiwae grid " + file + " --dry-run' lists them)");
            }
            globs.add(glob);
        }
        return cells.stream().filter(c -> globs.stream().anyMatch(g -> g.matcher(c.name()).matches())).toList();
    }

    /** A glob as a regular expression: {@code *} any characters (also '/'), {@code ?} one, everything else literal. */
    private static java.util.regex.Pattern glob(String p) {
        StringBuilder re = new StringBuilder();
        for (String part : p.split("(?=[*?])|(?<=[*?])")) {
            re.append(part.equals("*") ? ".*" : part.equals("?") ? "." : java.util.regex.Pattern.quote(part));
        }
        return java.util.regex.Pattern.compile(re.toString());
    }

    /** {@code grid --dry-run --json}: the grid file, its name, the runs folder and the selected cells. */
    record DryRun(String file, String name, String runs, List<Cell> cells) {
        /**
         * One cell: its name CONFIG/seed-S and hyperparameters (t and l null but for aiwae), its folder, its state
         * ({@link Phase#key}; {@code running_by} the lock holder or null), the {@code aiwae} argument lists of its
         * training and evaluation, and the steps ({@code train}, {@code eval}) a run of the grid with the same flags would start.
         */
        record Cell(String cell, String dataset, String method, int k, Integer t, Integer l, long seed, String dir, String state,
                    String runningBy, Integer epochsTrained, Integer epochs, boolean evaluationBegun, List<String> train, List<String> eval,
                    List<String> willRun) {}
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
