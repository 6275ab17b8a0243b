package org.aiwae.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.aiwae.AiwaeException;
import org.aiwae.io.Json;
import org.aiwae.train.Method;

/**
 * A grid file for {@code aiwae grid}: datasets x methods (with their K, T, L values) x repeats, the
 * training schedule and the evaluation protocol; snake_case keys, read strictly (an unknown key is an
 * error naming it). Absent optional values take the {@code train} / {@code eval} commands' defaults.
 *
 * @param name     what the grid is (printed in the tables)
 * @param datasets e.g. {@code ["mnist", "omniglot"]}
 * @param methods  each method with the K (and for AIWAE T and L) values to cross
 * @param repeats  trainings per configuration, seeds {@code seed}, {@code seed+1}, ... (a method entry may set its own)
 * @param seed     the first repeat's training seed; default 0
 * @param backend  cpu, opencl, cuda or auto; default cpu
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record GridSpec(String name, List<String> datasets, List<Methods> methods, int repeats, Long seed, Train train, Eval eval,
                String backend) {

    /**
     * One method and the values of its hyperparameters to cross; t and l only for aiwae (default [5]);
     * {@code repeats}, when given, replaces the grid's repeats for these configurations (e.g. 3 seeds for
     * the pair that Table 3 reports, 1 for the rest).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Methods(String method, List<Integer> k, List<Integer> t, List<Integer> l, Integer repeats) {}

    /**
     * {@code aiwae train}'s flags shared by every cell, each key the flag of the same name
     * ({@code batch_size}: {@code --batch-size}); epochs or schedule "paper".
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Train(Integer epochs, String schedule, Double budget, Integer latent, Integer hidden, Integer batchSize, Integer trainLimit,
                 Integer evalSamples, Integer evalImages) {}

    /** {@code aiwae eval}'s protocol for every cell, each key the flag of the same name; absent values are the paper's. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Eval(String split, Integer limit, Integer nllChains, Integer nllTemperatures, Integer nllLeapfrog, Integer nvlbSamples,
                Integer batch, Long seed) {}

    /** One training: a configuration and its repeat's seed. */
    record Cell(String dataset, String method, int k, Integer t, Integer l, long seed) {
        /** The configuration without the seed, as a folder name: {@code mnist-aiwae-k5-t5-l5}. */
        String config() {
            return dataset + "-" + method + "-k" + k + (t == null ? "" : "-t" + t + "-l" + l);
        }

        /** The cell's name: {@code CONFIG/seed-S}, its folder under the runs folder. */
        String name() {
            return config() + "/seed-" + seed;
        }

        /** The configuration as a column head: {@code AIWAE K=5 T=5 L=5}. */
        String label() {
            return method.toUpperCase() + " K=" + k + (t == null ? "" : " T=" + t + " L=" + l);
        }

        /** The run folder: {@code RUNS/CONFIG/seed-S}. */
        Path dir(Path runs) {
            return runs.resolve(config()).resolve("seed-" + seed);
        }
    }

    /** Whether every configuration has the grid's {@code repeats} (no method entry sets its own). */
    boolean uniformRepeats() {
        return methods == null || methods.stream().allMatch(m -> m.repeats() == null || m.repeats() == repeats);
    }

    /** What a grid's name may be: it is the folder {@code runs/NAME}, so one plain folder name. */
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

    /**
     * The cells in grid order (dataset, method, K, T, L, repeat); a value that cannot work is one line naming it.
     * Every cell has a run folder of its own: a cell that appears twice (a repeated dataset, method entry or
     * k, t, l value) is refused, as is a name that is not a plain folder name.
     */
    List<Cell> cells(Path file) {
        need(name == null || NAME.matcher(name).matches(), file, "name " + Json.write(name) + " must be a plain folder name "
                + "(letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100): it names the folder runs/NAME");
        need(datasets != null && !datasets.isEmpty(), file, "datasets must list at least one dataset");
        need(methods != null && !methods.isEmpty(), file, "methods must list at least one method");
        need(repeats >= 1, file, "repeats must be at least 1, got " + repeats);
        need(train != null && (train.epochs() != null || "paper".equals(train.schedule())), file,
                "train needs epochs N or schedule \"paper\"");
        List<Cell> cells = new ArrayList<>();
        long first = seed == null ? 0 : seed;
        for (String d : datasets) {
            for (Methods m : methods) {
                try {
                    Method.parse(m.method());
                } catch (IllegalArgumentException e) {
                    throw new AiwaeException(file + ": methods: " + e.getMessage());
                }
                need(m.k() != null && !m.k().isEmpty(), file, "methods: " + m.method() + " needs k values");
                boolean annealed = m.method().equals(Method.AIWAE.key());
                need(m.repeats() == null || m.repeats() >= 1, file, "methods: " + m.method() + " repeats must be at least 1, got " + m.repeats());
                int reps = m.repeats() == null ? repeats : m.repeats();
                need(annealed || m.t() == null && m.l() == null, file, "methods: t and l are for aiwae only");
                for (int k : m.k()) {
                    for (Integer t : annealed ? orFive(m.t()) : java.util.Collections.<Integer>singletonList(null)) {
                        for (Integer l : annealed ? orFive(m.l()) : java.util.Collections.<Integer>singletonList(null)) {
                            for (int r = 0; r < reps; r++) {
                                cells.add(new Cell(d, m.method(), k, t, l, first + r));
                            }
                        }
                    }
                }
            }
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Cell c : cells) {
            String where = c.name();
            need(seen.add(where), file, "cell " + where + " appears twice (a dataset, method entry or k, t, l value is repeated); "
                    + "each cell trains into a folder of its own");
        }
        return cells;
    }

    private static List<Integer> orFive(List<Integer> v) {
        return v == null || v.isEmpty() ? List.of(5) : v;
    }

    private static void need(boolean ok, Path file, String message) {
        if (!ok) {
            throw new AiwaeException(file + ": " + message);
        }
    }

    /** {@code aiwae train} for a cell; with {@code resume}, {@code --resume-if-started} (continue its folder if there). */
    List<String> trainArgs(Cell c, Path runs, Path dataDir, boolean resume) {
        List<String> a = new ArrayList<>(List.of("train", "--dataset", c.dataset(), "--method", c.method(), "--samples", "" + c.k(),
                "--seed", "" + c.seed(), "--out", c.dir(runs).toString(), "--backend", backend == null ? "cpu" : backend));
        if (c.t() != null) {
            a.addAll(List.of("--temperatures", "" + c.t(), "--leapfrog", "" + c.l()));
        }
        addFlags(a, train);
        add(a, "--data-dir", dataDir);
        if (resume) {
            a.add("--resume-if-started");
        }
        return a;
    }

    /** {@code aiwae eval --resume} of a cell's run, into the run folder. */
    List<String> evalArgs(Cell c, Path runs, Path dataDir) {
        List<String> a = new ArrayList<>(List.of("eval", "--checkpoint", c.dir(runs).toString(), "--resume",
                "--backend", backend == null ? "cpu" : backend));
        if (eval != null) {
            addFlags(a, eval);
        }
        add(a, "--data-dir", dataDir);
        return a;
    }

    /** A section's values as the flags of the same names ({@code batch_size} is {@code --batch-size}), in declaration order. */
    private static void addFlags(List<String> a, Object section) {
        Json.fields(section).forEach((key, value) -> add(a, "--" + key.replace('_', '-'), value));
    }

    private static void add(List<String> a, String flag, Object value) {
        if (value != null) {
            a.addAll(List.of(flag, value.toString()));
        }
    }
}
