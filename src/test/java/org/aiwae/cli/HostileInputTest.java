package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.aiwae.data.Idx;
import org.aiwae.data.Images;
import org.aiwae.io.Sha256Sums;
import org.aiwae.train.CheckpointFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line under hostile but fair use, run as a user runs it: each case is {@code aiwae ...}
 * in a JVM of its own (the flags of {@code bin/aiwae}), over a table of flags x values, environment
 * settings, damaged run folders and data files, held locks and bad paths. Every case must end with
 * exit status 2, one line on stderr ({@code aiwae: ...}, no stack trace, nothing on stdout) that names
 * the flag, variable or file at fault and says what is wrong, and every file of the work folder exactly
 * as it was (nothing created, nothing half-written, nothing deleted).
 *
 * <p>The child JVMs run with C1 only, one compiler thread and the serial collector ({@code
 * -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:+UseSerialGC -XX:-UsePerfData}): a refusal comes
 * before any heavy computing, so this only shortens their start; two run at a time. Cases read the
 * shared fixtures ({@code {run}}, {@code {evaluated}}) but never take their lock: a case that locks a
 * folder works on its own copy, so concurrent cases cannot change one another's outcome.
 * The line {@code WARNING: Using incubator modules: jdk.incubator.vector}, which every JVM with the
 * Vector API prints and {@code bin/aiwae} drops (checked by {@code bin/check-launcher}), is dropped here too.
 */
class HostileInputTest {
    @TempDir
    static Path root;
    @TempDir
    static Path logs;

    /** A finished 2-epoch run; {@link #busy}, a copy of it, is locked by a {@link LockHolder} process. */
    static Path run;
    static Path busy;
    static Path evaluated;
    static Path plainFile;
    static Process holder;
    static int ran;
    static double seconds;

    private static final String INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector";

    /** How a case prepares its own folder ({@code {case}}) before the work folder is snapshotted. */
    @FunctionalInterface
    interface Setup {
        void prepare(Path caseDir) throws Exception;
    }

    /**
     * One case: {@code args} with placeholders {@code {run}}, {@code {busy}}, {@code {evaluated}}, {@code {file}}
     * (a plain file), {@code {case}} (the case's own folder) and {@code {dest}} (a path that must stay absent);
     * {@code names} is the flag, variable or file the message must name, {@code says} what it must say.
     */
    record Case(String name, List<String> args, Map<String, String> env, Setup setup, String names, String says) {
        Case env(String variable, String value) {
            Map<String, String> e = new LinkedHashMap<>(env);
            e.put(variable, value);
            return new Case(name, args, e, setup, names, says);
        }

        Case given(Setup s) {
            return new Case(name, args, env, s, names, says);
        }
    }

    static Case c(String name, String names, String says, String... args) {
        return new Case(name, List.of(args), Map.of(), null, names, says);
    }

    /** {@code command} with the flags of {@code base} (pairs), {@code flag value} replacing or joining them. */
    static Case withFlag(String command, List<String> base, String flag, String value, String says) {
        List<String> args = new ArrayList<>(List.of(command));
        for (int i = 0; i < base.size(); i += 2) {
            if (!base.get(i).equals(flag)) {
                args.addAll(base.subList(i, i + 2));
            }
        }
        args.addAll(List.of(flag, value));
        return new Case(command + " " + flag + " " + value, args, Map.of(), null, flag, says);
    }

    /** {@code aiwae train} of a tiny model into {@code {dest}} with {@code flag value}. */
    static Case train(String flag, String value, String says) {
        return withFlag("train", List.of("--method", "iwae", "--samples", "2", "--latent", "2", "--hidden", "8", "--train-limit", "40",
                "--epochs", "1", "--out", "{dest}"), flag, value, says);
    }

    /** {@code aiwae train --method aiwae} (whose T and L are checked) with {@code flag value}. */
    static Case aiwae(String flag, String value, String says) {
        return withFlag("train", List.of("--method", "aiwae", "--samples", "2", "--latent", "2", "--hidden", "8", "--train-limit", "40",
                "--epochs", "1", "--out", "{dest}"), flag, value, says);
    }

    /** {@code aiwae eval} of {@code {run}} into {@code {dest}} with a tiny protocol and {@code flag value}. */
    static Case eval(String flag, String value, String says) {
        return withFlag("eval", List.of("--checkpoint", "{run}", "--out", "{dest}", "--limit", "2", "--nll-chains", "1",
                "--nll-temperatures", "2", "--nvlb-samples", "2"), flag, value, says);
    }

    static Case bench(String flag, String value, String says) {
        return withFlag("bench", List.of("--seconds", "0", "--warmup", "0", "--train-limit", "40"), flag, value, says);
    }

    @BeforeAll
    static void fixtures() throws Exception {
        run = root.resolve("run");
        CliRun t = CliRun.of("train", "--method", "iwae", "--samples", "2", "--latent", "2", "--hidden", "8", "--train-limit", "40",
                "--epochs", "2", "--eval-samples", "2", "--eval-images", "10", "--out", run.toString());
        assertEquals(0, t.status(), t.err());
        evaluated = root.resolve("evaluated");
        CliRun e = CliRun.of("eval", "--checkpoint", run.toString(), "--out", evaluated.toString(), "--limit", "2", "--nll-chains", "1",
                "--nll-temperatures", "2", "--nvlb-samples", "2");
        assertEquals(0, e.status(), e.err());
        plainFile = Files.writeString(root.resolve("a-file"), "not a folder\n");
        busy = CheckpointFiles.copy(run, root.resolve("busy"));
        holder = new ProcessBuilder(javaCommand(LockHolder.class.getName(), List.of(busy.toString())))
                .redirectError(logs.resolve("holder.log").toFile()).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("locked", r.readLine(), "the lock holder started");
    }

    @AfterAll
    static void stopHolder() throws Exception {
        if (holder != null) {
            holder.destroyForcibly();
            holder.waitFor(30, TimeUnit.SECONDS);
        }
        System.out.printf("HostileInputTest: %d cases, each a JVM of its own (%d at a time), in %.1f s%n", ran,
                Integer.getInteger("aiwae.hostile.parallel", 2), seconds);
    }

    /** The command that starts {@code mainClass} as bin/aiwae starts the command line. */
    static List<String> javaCommand(String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Djava.awt.headless=true",
                "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xmx512m"));
        if (Runtime.version().feature() >= 24) {
            cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        return cmd;
    }

    // ---------------------------------------------------------------- the table

    static List<Case> cases() {
        List<Case> t = new ArrayList<>();
        // environment (#25 item 5)
        for (String v : List.of("abc", "0", "99999999999", "1025")) {
            t.add(c("AIWAE_THREADS=" + v, "AIWAE_THREADS", "must be a whole number of threads from 1 to 1024", "devices")
                    .env("AIWAE_THREADS", v));
        }
        t.add(c("train with AIWAE_THREADS=many", "AIWAE_THREADS", "must be a whole number", "train", "--epochs", "1", "--out", "{dest}")
                .env("AIWAE_THREADS", "many"));
        for (String v : List.of("abc", "0", "NaN")) {
            t.add(c("AIWAE_PROGRESS_SECONDS=" + v, "AIWAE_PROGRESS_SECONDS", "must be a number of seconds", "devices")
                    .env("AIWAE_PROGRESS_SECONDS", v));
        }

        // train: flags x values (sizes: item 4; zero is never "all": item 6)
        t.add(train("--samples", "0", "must be at least 1"));
        t.add(train("--samples", "abc", "is not an int"));
        t.add(train("--samples", "99999999999", "is not an int"));
        t.add(train("--samples", "2147483647", "values in one tensor of a training step"));
        t.add(aiwae("--temperatures", "1", "must be at least 2"));
        t.add(aiwae("--temperatures", "2147483647", "must be at most 10000"));
        t.add(aiwae("--leapfrog", "0", "must be at least 1"));
        t.add(train("--latent", "0", "must be at least 1"));
        t.add(train("--latent", "2147483647", "gives a weight matrix"));
        t.add(train("--hidden", "-5", "must be at least 1"));
        t.add(train("--hidden", "2147483647", "gives a weight matrix"));
        t.add(train("--hidden", "100000", "gives a weight matrix"));
        t.add(train("--batch-size", "0", "must be at least 1"));
        t.add(train("--batch-size", "2147483647", "values in one tensor of a training step"));
        t.add(train("--batch-size", "41", "larger than the 40 training images"));
        t.add(train("--epochs", "0", "must be at least 1"));
        t.add(train("--train-limit", "0", "must be at least 1, got 0"));
        t.add(train("--eval-samples", "0", "must be at least 1"));
        t.add(train("--eval-images", "0", "must be at least 1"));
        t.add(train("--learning-rate", "0", "must be in (0, 1)"));
        t.add(train("--learning-rate", "NaN", "must be in (0, 1)"));
        t.add(train("--dataset", "cifar", "unknown dataset 'cifar'"));
        t.add(train("--dataset", "", "unknown dataset ''"));
        t.add(train("--method", "gan", "gan"));
        t.add(train("--encoder-kl", "analytic", "applies to aiwae only"));
        t.add(train("--schedule", "paper", "give either --epochs N or --schedule paper"));
        t.add(train("--budget", "0.1", "give either --epochs N or --schedule paper --budget F"));
        t.add(c("train --budget on the short schedule", "--budget", "fraction of --schedule paper", "train", "--dataset", "embedded",
                "--budget", "0.1", "--out", "{dest}"));
        t.add(c("train --budget 0", "--budget", "must be in (0, 1]", "train", "--schedule", "paper", "--budget", "0", "--out", "{dest}"));
        t.add(c("train --budget 2", "--budget", "must be in (0, 1]", "train", "--schedule", "paper", "--budget", "2", "--out", "{dest}"));
        t.add(c("train --budget NaN", "--budget", "must be in (0, 1]", "train", "--schedule", "paper", "--budget", "NaN", "--out", "{dest}"));
        t.add(train("--backend", "tpu", "unknown backend"));
        t.add(train("--seed", "99999999999999999999", "is not a long"));
        t.add(train("--sampels", "3", "did you mean --samples?"));

        // output folders (item 9)
        t.add(c("train --out empty", "--out", "is empty", "train", "--epochs", "1", "--out", ""));
        t.add(c("train --out under a file", "{file}", "is a file, not a folder", "train", "--epochs", "1", "--out", "{file}/run"));
        t.add(c("train --out a file", "{file}", "is a file, not a folder", "train", "--epochs", "1", "--out", "{file}"));
        t.add(c("train --out /", "--out /", "root of the file system", "train", "--epochs", "1", "--out", "/"));
        t.add(c("train --out an existing run", "{run}", "already exists; pass --resume", "train", "--epochs", "1", "--out", "{run}"));
        t.add(c("train --out a link loop", "{case}/loop", "leads nowhere", "train", "--epochs", "1", "--out", "{case}/loop/run")
                .given(d -> Files.createSymbolicLink(d.resolve("loop"), d.resolve("loop"))));

        // resume (items 3, 8)
        t.add(c("train --resume without --out", "--out", "--resume needs --out", "train", "--resume"));
        t.add(c("train --resume of nothing", "{dest}", "not a training run folder", "train", "--resume", "--out", "{dest}"));
        t.add(c("train --resume of a file", "{file}", "is a file, not a folder", "train", "--resume", "--out", "{file}"));
        t.add(c("train --resume --samples other", "--samples 3", "conflicts with the run's samples 2", "train", "--resume", "--out", "{run}",
                "--samples", "3"));
        t.add(c("train --resume --epochs fewer", "--epochs", "has finished 2 epochs", "train", "--resume", "--out", "{case}/run",
                "--epochs", "1").given(d -> CheckpointFiles.copy(run, d.resolve("run"))));
        t.add(c("train --resume --train-limit 0", "--train-limit", "must be at least 1", "train", "--resume", "--out", "{run}",
                "--train-limit", "0"));
        t.add(c("train --resume-if-started without --out", "--out", "needs --out", "train", "--resume-if-started"));

        // data files
        t.add(c("train mnist not there", "--data-dir", "mnist not found", "train", "--dataset", "mnist", "--data-dir", "{case}",
                "--out", "{dest}").given(d -> { }));
        t.add(dataCase("a folder in place of a data file", "train-images-idx3-ubyte", "is a folder, not a data file", d -> {
            Files.delete(d.resolve("train-images-idx3-ubyte"));
            Files.createDirectory(d.resolve("train-images-idx3-ubyte"));
        }));
        t.add(dataCase("a link loop in place of a data file", "train-images-idx3-ubyte", "leads nowhere", d -> {
            Files.delete(d.resolve("train-images-idx3-ubyte"));
            Files.createSymbolicLink(d.resolve("train-images-idx3-ubyte"), d.resolve("train-images-idx3-ubyte"));
        }));
        t.add(dataCase("a label above 9", "train-labels-idx1-ubyte", "label 12 of image 3 is not a class 0-9", d -> {
            byte[] b = Files.readAllBytes(d.resolve("train-labels-idx1-ubyte"));
            b[8 + 3] = 12;
            Files.write(d.resolve("train-labels-idx1-ubyte"), b);
        }));
        t.add(dataCase("a truncated image file", "t10k-images-idx3-ubyte", "is truncated", d -> {
            byte[] b = Files.readAllBytes(d.resolve("t10k-images-idx3-ubyte"));
            Files.write(d.resolve("t10k-images-idx3-ubyte"), java.util.Arrays.copyOf(b, b.length - 100));
        }));
        t.add(c("omniglot: a folder in place of chardata.mat", "chardata.mat", "is a folder, not a data file", "train", "--dataset",
                "omniglot", "--data-dir", "{case}", "--out", "{dest}").given(d -> Files.createDirectory(d.resolve("chardata.mat"))));

        // eval: flags x values
        t.add(eval("--limit", "0", "must be at least 1, got 0"));
        t.add(eval("--nll-chains", "0", "must be at least 1"));
        t.add(eval("--nll-chains", "2147483647", "values in one tensor of the AIS chains"));
        t.add(eval("--nll-temperatures", "1", "must be between 2 and 10000000"));
        t.add(eval("--nll-temperatures", "2147483647", "must be between 2 and 10000000"));
        t.add(eval("--nll-leapfrog", "0", "must be at least 1"));
        t.add(eval("--nvlb-samples", "0", "must be at least 1"));
        t.add(eval("--batch", "0", "must be at least 1"));
        t.add(eval("--batch", "2147483647", "values in one tensor of the AIS chains"));
        t.add(eval("--split", "val", "unknown split"));
        t.add(eval("--shards", "0", "must be at least 1"));
        t.add(eval("--shards", "3", "--shards needs --master"));
        t.add(eval("--force", "--resume", "pass one"));
        for (String range : List.of("5:3", "a:b", "3")) {
            t.add(c("eval --images " + range, "--images", "--images must be A:B", "eval", "--checkpoint", "{run}", "--out", "{dest}",
                    "--images", range));
        }
        t.add(c("eval --images beyond", "--images", "is beyond the 500 test images", "eval", "--checkpoint", "{run}", "--out", "{dest}",
                "--images", "0:99999"));
        t.add(c("eval --limit and --images", "--images", "not both", "eval", "--checkpoint", "{run}", "--out", "{dest}", "--limit", "3",
                "--images", "0:2"));
        t.add(c("eval --out empty", "--out", "is empty", "eval", "--checkpoint", "{run}", "--out", ""));
        t.add(c("eval --out /", "--out /", "root of the file system", "eval", "--checkpoint", "{run}", "--out", "/"));
        t.add(c("eval --out a file", "{file}", "is a file, not a folder", "eval", "--checkpoint", "{run}", "--out", "{file}"));
        t.add(c("eval --out under a file", "{file}", "is a file, not a folder", "eval", "--checkpoint", "{run}", "--out", "{file}/e"));
        t.add(c("eval --checkpoint missing", "{dest}", "not a training run folder", "eval", "--checkpoint", "{dest}"));
        t.add(c("eval --checkpoint a file", "{file}", "not a training run folder", "eval", "--checkpoint", "{file}"));
        t.add(c("eval --checkpoint empty", "--checkpoint", "is empty", "eval", "--checkpoint", ""));
        t.add(c("eval over an evaluation", "{evaluated}", "already has an evaluation", "eval", "--checkpoint", "{run}", "--out",
                "{evaluated}", "--limit", "2", "--nll-chains", "1", "--nll-temperatures", "2", "--nvlb-samples", "2"));
        t.add(c("eval --resume with another seed", "eval-test.jsonl", "a different seed: 0 (now 1)", "eval", "--checkpoint", "{run}",
                "--out", "{case}/evaluated", "--limit", "2", "--nll-chains", "1", "--nll-temperatures", "2", "--nvlb-samples", "2",
                "--resume", "--seed", "1").given(d -> CheckpointFiles.copy(evaluated, d.resolve("evaluated"))));

        // bench
        t.add(bench("--hidden", "2147483647", "gives a weight matrix"));
        t.add(bench("--samples", "2147483647", "values in one tensor of a training step"));
        t.add(bench("--train-limit", "0", "must be at least 1"));
        t.add(bench("--seconds", "3601", "must be between 0 and 3600"));

        // figures
        t.add(c("samples --out empty", "--out", "FILE.png", "samples", "--checkpoint", "{run}", "--out", ""));
        t.add(c("samples --out a folder", "{case}/x.png", "is a folder", "samples", "--checkpoint", "{run}", "--out", "{case}/x.png")
                .given(d -> Files.createDirectory(d.resolve("x.png"))));
        t.add(c("samples --out under a file", "{file}", "is a file, not a folder", "samples", "--checkpoint", "{run}", "--out",
                "{file}/s.png"));
        t.add(c("posterior of a 2-d run, --images beyond", "--images", "outside the test set", "posterior", "--checkpoint", "{run}",
                "--out", "{dest}.png", "--images", "0,99999"));
        t.add(c("plot of a missing run", "{dest}", "does not exist", "plot", "{dest}", "--out", "{case}/c.png").given(d -> { }));

        // grids (items 2, 10)
        t.add(grid("a repeated k value", "cell embedded-iwae-k2/seed-0 appears twice", g -> g.replace("\"k\": [2]", "\"k\": [2, 2]")));
        t.add(grid("a repeated method entry", "appears twice", g -> g.replace("{\"method\": \"iwae\", \"k\": [2]}",
                "{\"method\": \"iwae\", \"k\": [2]}, {\"method\": \"iwae\", \"k\": [1, 2]}")));
        t.add(grid("a repeated dataset", "appears twice", g -> g.replace("[\"embedded\"]", "[\"embedded\", \"embedded\"]")));
        for (String name : List.of("../../etc", "", ".hidden", "a\nb")) {
            t.add(grid("name " + name.replace("\n", "\\n"), "must be a plain folder name",
                    g -> g.replace("\"g\"", org.aiwae.io.Json.write(name))));
        }
        t.add(grid("an unknown key", "foo", g -> g.replace("\"repeats\"", "\"foo\": 1, \"repeats\"")));
        t.add(grid("repeats 0", "repeats must be at least 1", g -> g.replace("\"repeats\": 1", "\"repeats\": 0")));
        t.add(grid("train_limit 0", "--train-limit must be at least 1", g -> g.replace("\"train_limit\": 40", "\"train_limit\": 0")));
        t.add(grid("an unknown dataset", "unknown dataset 'cifar'", g -> g.replace("[\"embedded\"]", "[\"cifar\"]")));
        t.add(c("grid --runs empty", "--runs", "is empty", "grid", "{case}/grid.json", "--dry-run", "--runs", "")
                .given(d -> Files.writeString(d.resolve("grid.json"), GRID)));
        t.add(c("grid --runs under a file", "{file}", "is a file, not a folder", "grid", "{case}/grid.json", "--dry-run", "--runs",
                "{file}/runs").given(d -> Files.writeString(d.resolve("grid.json"), GRID)));
        t.add(c("grid file missing", "{dest}", "cannot read grid file", "grid", "{dest}", "--dry-run"));
        t.add(c("grid file not JSON", "grid.json", "grid.json", "grid", "{case}/grid.json", "--dry-run")
                .given(d -> Files.writeString(d.resolve("grid.json"), "{\"name\": ")));

        // damaged run folders: the resume and every reader refuse with one line naming the file (checksums)
        for (String command : List.of("train", "eval", "samples")) {
            t.add(damaged(command, "a flipped bit in the model", "checkpoints/epoch-0002/model.safetensors",
                    "is damaged: its SHA-256 differs", r -> ResumeCliTest.flipBit(r.resolve("checkpoints/epoch-0002/model.safetensors"))));
            t.add(damaged(command, "LATEST missing", "LATEST", "is missing, but the run had published epochs",
                    r -> Files.delete(r.resolve("LATEST"))));
        }
        t.add(damaged("train", "a truncated training state", "train-state.safetensors", "is damaged", r -> {
            Path f = r.resolve("checkpoints/epoch-0002/train-state.safetensors");
            Files.write(f, java.util.Arrays.copyOf(Files.readAllBytes(f), 100));
        }));
        t.add(damaged("train", "an edited metrics line", "checkpoints/epoch-0002/metrics.jsonl", "is damaged", r -> {
            Path f = r.resolve("checkpoints/epoch-0002/metrics.jsonl");
            Files.writeString(f, Files.readString(f).replace("\"epoch\":1", "\"epoch\":7"));
        }));
        t.add(damaged("train", "a corrupt LATEST", "LATEST", "is corrupt", r -> Files.writeString(r.resolve("LATEST"), "epoch-00x2\n")));
        t.add(damaged("eval", "LATEST naming a missing checkpoint", "LATEST", "which does not exist",
                r -> Files.writeString(r.resolve("LATEST"), "epoch-0009\n")));
        t.add(damaged("train", "SHA256SUMS not a sums file", "SHA256SUMS", "is corrupt: line 1",
                r -> Files.writeString(r.resolve("checkpoints/epoch-0002/SHA256SUMS"), "hello\n")));
        t.add(damaged("eval", "SHA256SUMS without the model", "SHA256SUMS", "has no SHA-256 for model.safetensors", r -> {
            Path f = r.resolve("checkpoints/epoch-0002/SHA256SUMS");
            Files.writeString(f, Files.readString(f).replaceAll("(?m)^.*  model.safetensors\n", ""));
        }));
        t.add(damaged("eval", "a folder in place of the model", "model.safetensors", "", r -> {
            Path f = r.resolve("checkpoints/epoch-0002/model.safetensors");
            Files.delete(f);
            Files.createDirectory(f);
        }));
        t.add(damaged("train", "config.json not JSON", "config.json", "", r -> Files.writeString(r.resolve("config.json"), "{\"dataset")));
        t.add(damaged("eval", "config.json with huge sizes", "config.json", "values in one tensor of a training step",
                r -> Files.writeString(r.resolve("config.json"), Files.readString(r.resolve("config.json"))
                        .replace("\"samples\":2", "\"samples\":2147483647"))));
        t.add(damaged("train", "a folder in place of the lock", "lock", "", r -> {
            Files.delete(r.resolve("lock"));
            Files.createDirectory(r.resolve("lock"));
        }));

        // held locks (item 1: one lock for every writer)
        t.add(c("train --resume of a folder in use", "{busy}", "is in use by process", "train", "--resume", "--out", "{busy}"));
        t.add(c("eval into a folder in use", "{busy}", "is in use by process", "eval", "--checkpoint", "{busy}", "--limit", "1",
                "--nll-chains", "1", "--nll-temperatures", "2", "--nvlb-samples", "2"));
        t.add(c("eval --force into a folder in use", "{busy}", "is in use by process", "eval", "--checkpoint", "{run}", "--out", "{busy}",
                "--force", "--limit", "1", "--nll-chains", "1", "--nll-temperatures", "2", "--nvlb-samples", "2"));
        return t;
    }

    static final String GRID = """
            {"name": "g", "datasets": ["embedded"], "methods": [{"method": "iwae", "k": [2]}], "repeats": 1,
             "train": {"epochs": 1, "latent": 2, "hidden": 8, "train_limit": 40},
             "eval": {"limit": 2, "nll_chains": 1, "nll_temperatures": 2, "nvlb_samples": 2}}
            """;

    /** {@code aiwae grid --dry-run} of a grid file that {@code edit} makes from a valid one (checked: the edit applies). */
    static Case grid(String name, String says, UnaryOperator<String> edit) {
        String text = edit.apply(GRID);
        assertTrue(!text.equals(GRID), "the edit of '" + name + "' changes the grid");
        return c("grid: " + name, "grid.json", says, "grid", "{case}/grid.json", "--dry-run")
                .given(d -> Files.writeString(d.resolve("grid.json"), text));
    }

    /** A valid set of the four MNIST files (20 images each) in {@code {case}}, then {@code damage} to them. */
    static Case dataCase(String name, String names, String says, Setup damage) {
        return c("train mnist: " + name, names, says, "train", "--dataset", "mnist", "--data-dir", "{case}", "--out", "{dest}")
                .given(d -> {
                    java.util.Random r = new java.util.Random(1);
                    float[] p = new float[20 * 784];
                    int[] labels = new int[20];
                    for (int i = 0; i < p.length; i++) {
                        p[i] = r.nextInt(256) / 255f;
                    }
                    for (int i = 0; i < labels.length; i++) {
                        labels[i] = i % 10;
                    }
                    Images im = new Images("x", p, 20, 28, 28, labels);
                    Idx.write(im, d.resolve("train-images-idx3-ubyte"), d.resolve("train-labels-idx1-ubyte"));
                    Idx.write(im, d.resolve("t10k-images-idx3-ubyte"), d.resolve("t10k-labels-idx1-ubyte"));
                    damage.prepare(d);
                });
    }

    /** {@code command} (train --resume, eval or samples) on a copy of {@code {run}} that {@code damage} damages. */
    static Case damaged(String command, String name, String names, String says, Setup damage) {
        List<String> args = switch (command) {
            case "train" -> List.of("train", "--resume", "--out", "{case}/run", "--epochs", "3");
            case "eval" -> List.of("eval", "--checkpoint", "{case}/run", "--limit", "1", "--nll-chains", "1", "--nll-temperatures", "2",
                    "--nvlb-samples", "2");
            case "samples" -> List.of("samples", "--checkpoint", "{case}/run", "--out", "{dest}.png");
            default -> throw new IllegalArgumentException(command);
        };
        return new Case(command + ": " + name, args, Map.of(), d -> damage.prepare(CheckpointFiles.copy(run, d.resolve("run"))), names,
                says);
    }

    // ---------------------------------------------------------------- running the cases

    /** What a case's process did. */
    record Result(int status, String stdout, String stderr) {}

    /**
     * Prepares every case's folder, snapshots the work folder, runs the cases' processes (up to
     * {@code -Daiwae.hostile.parallel}, default 2, at once: no case writes, and no two cases take the
     * same lock, so they cannot disturb one another), snapshots it again, and then checks each case: its
     * exit status, its one line, and its own folder unchanged; a last check compares the whole work folder.
     */
    @TestFactory
    Stream<DynamicTest> everyCaseIsOneLineExitTwoAndLeavesTheFolderAsItWas() throws Exception {
        List<Case> all = cases();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Case k : all) {
            assertTrue(names.add(k.name()), "two cases named " + k.name());
        }
        List<List<String>> argv = new ArrayList<>();
        List<String> named = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            Case k = all.get(i);
            Path caseDir = Files.createDirectories(root.resolve("cases").resolve(String.format("%03d", i)));
            Path dest = root.resolve("absent-" + i);
            if (k.setup() != null) {
                k.setup().prepare(caseDir);
            }
            List<String> args = new ArrayList<>();
            for (String a : k.args()) {
                args.add(fill(a, caseDir, dest));
            }
            argv.add(args);
            named.add(fill(k.names(), caseDir, dest));
        }
        Map<String, String> before = snapshot(root);
        boolean rootEvalJson = Files.exists(Path.of("/eval.json"));
        long start = System.nanoTime();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(
                Integer.getInteger("aiwae.hostile.parallel", 2));
        List<java.util.concurrent.Future<Result>> results = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            int n = i;
            results.add(pool.submit(() -> launch(n, all.get(n), argv.get(n))));
        }
        pool.shutdown();
        assertTrue(pool.awaitTermination(20, TimeUnit.MINUTES), "the cases did not finish in 20 minutes");
        seconds = (System.nanoTime() - start) / 1e9;
        ran = all.size();
        Map<String, String> after = snapshot(root);

        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            Case k = all.get(i);
            Result r = results.get(i).get();
            String own = "cases/" + String.format("%03d", i), dest = "absent-" + i;
            String what = "aiwae " + String.join(" ", argv.get(i)) + (k.env().isEmpty() ? "" : " with " + k.env()) + "\nstderr: "
                    + r.stderr();
            String mustName = named.get(i);
            tests.add(DynamicTest.dynamicTest(k.name(), () -> {
                assertEquals(2, r.status(), what);
                List<String> lines = r.stderr().strip().lines().toList();
                assertEquals(1, lines.size(), "one line: " + what);
                String line = lines.get(0);
                assertTrue(line.startsWith("aiwae: ") && !line.contains("internal error") && !line.contains("Exception"), what);
                assertTrue(line.contains(mustName), "names " + mustName + ": " + what);
                assertTrue(line.contains(k.says()), "says '" + k.says() + "': " + what);
                assertEquals("", r.stdout(), "nothing on stdout: " + what);
                assertEquals(within(before, own), within(after, own), "its folder is as it was: " + what);
                assertEquals(List.of(), List.copyOf(within(after, dest).keySet()), "nothing created at " + dest + ": " + what);
            }));
        }
        tests.add(DynamicTest.dynamicTest("the work folder and the file-system root are as they were", () -> {
            Map<String, String> changed = new TreeMap<>();
            for (String k : new java.util.TreeSet<>(union(before.keySet(), after.keySet()))) {
                if (!java.util.Objects.equals(before.get(k), after.get(k))) {
                    changed.put(k, before.get(k) + " -> " + after.get(k));
                }
            }
            assertEquals(Map.of(), changed);
            assertEquals(rootEvalJson, Files.exists(Path.of("/eval.json")), "nothing written at the file-system root");
        }));
        return tests.stream();
    }

    private static java.util.Set<String> union(java.util.Set<String> a, java.util.Set<String> b) {
        java.util.Set<String> u = new java.util.HashSet<>(a);
        u.addAll(b);
        return u;
    }

    /** The entries of a snapshot at or under relative path {@code prefix}. */
    private static Map<String, String> within(Map<String, String> snapshot, String prefix) {
        Map<String, String> m = new TreeMap<>();
        snapshot.forEach((k, v) -> {
            if (k.equals(prefix) || k.startsWith(prefix + "/")) {
                m.put(k, v);
            }
        });
        return m;
    }

    /** Runs case {@code n} in a JVM of its own, in the work folder, with a clean environment plus the case's variables. */
    private static Result launch(int n, Case k, List<String> args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(javaCommand(Main.class.getName(), args)).directory(root.toFile());
        Path out = logs.resolve(n + ".out"), err = logs.resolve(n + ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        for (String v : List.of("JAVA_TOOL_OPTIONS", "AIWAE_THREADS", "AIWAE_PROGRESS_SECONDS", "AIWAE_DEBUG")) {
            pb.environment().remove(v);
        }
        pb.environment().put("AIWAE_DATA", root.resolve("no-data").toString());
        pb.environment().putAll(k.env());
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            return new Result(-1, Files.readString(out), "did not finish in 120 s\n" + Files.readString(err));
        }
        String stderr = Files.readString(err).lines().filter(l -> !l.equals(INCUBATOR_WARNING)).reduce("", (a, b) -> a + b + "\n");
        return new Result(p.exitValue(), Files.readString(out), stderr);
    }

    private static String fill(String s, Path caseDir, Path dest) {
        return s.replace("{run}", run.toString()).replace("{busy}", busy.toString()).replace("{evaluated}", evaluated.toString())
                .replace("{file}", plainFile.toString()).replace("{case}", caseDir.toString()).replace("{dest}", dest.toString());
    }

    /** Every entry under {@code dir}: a file's SHA-256, a link's target, or "folder". */
    static Map<String, String> snapshot(Path dir) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                String rel = dir.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    m.put(rel, "link to " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p)) {
                    m.put(rel, "folder");
                } else {
                    m.put(rel, Sha256Sums.of(Files.readAllBytes(p)));
                }
            }
        }
        return m;
    }
}
