package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.aiwae.eval.Evaluation;
import org.aiwae.train.InjectedFaults;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code aiwae cluster}: a Spark standalone master and two workers, JVMs of their own on 127.0.0.1 started
 * by {@code cluster start} (in a JVM that exits), are up for the whole class and stopped by
 * {@code cluster stop} at its end, which ends exactly them (and leaves alone a process that a stray pid file names).
 * On it, submitted as a user submits to a real cluster (the executors fetch the application's jars from the
 * driver): a 4-cell grid, whose every file equals the local[2] grid's bytes, and a sharded evaluation
 * through spark-submit ({@code org.apache.spark.deploy.SparkSubmit}), whose merged eval.json equals the
 * unsharded one's bytes.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ClusterTest {
    @TempDir
    static Path tmp;

    static TestCluster cluster;

    /**
     * The folder of a null CUDA driver's libcuda.so.1 (a driver that reports devices and runs nothing), from
     * AIWAE_TEST_NULL_CUDA; null where it is not set. With it the workers' executors see 2 such devices.
     */
    static final Path NULL_CUDA = nullCuda();

    private static Path nullCuda() {
        String d = System.getenv("AIWAE_TEST_NULL_CUDA");
        return d != null && Files.isRegularFile(Path.of(d, "libcuda.so.1")) ? Path.of(d) : null;
    }

    @BeforeAll
    static void startCluster() throws Exception {
        // one GPU per worker (worker N has CUDA device N-1): the GPU test asks for them, the others do not
        cluster = TestCluster.start(tmp.resolve("cluster"), 2, 1, NULL_CUDA == null ? Map.of()
                : Map.of("LD_LIBRARY_PATH", NULL_CUDA.toString(), "NULL_CUDA_DEVICES", "2"));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster == null) {
            return;
        }
        List<ProcessHandle> daemons = List.of(cluster.daemon("master"), cluster.daemon("history"), cluster.daemon("worker-1"),
                cluster.daemon("worker-2"));
        // a pid file naming a process the cluster did not start (this JVM): stop must leave that process alone
        Files.writeString(cluster.dir.resolve("worker-3.pid"), ProcessHandle.current().pid() + "\n");
        CliRun stop = CliRun.of("cluster", "stop", "--dir", cluster.dir.toString());
        cluster.close();
        assertEquals(0, stop.status(), stop.err());
        assertTrue(stop.err().contains("master: stopped pid " + daemons.get(0).pid()) && stop.err().contains("worker-3: not running"),
                stop.err());
        for (ProcessHandle h : daemons) {
            assertFalse(h.isAlive(), "cluster stop left pid " + h.pid() + " running");
        }
        assertEquals(List.of(), cluster.alive(), "processes of the cluster still running");
        assertFalse(Files.exists(cluster.dir.resolve("master.pid")));
    }

    /** A tiny 2 configurations x 2 repeats grid (a few seconds of computing per cell). */
    static final String GRID = """
            {"name": "cluster", "datasets": ["embedded"],
             "methods": [{"method": "iwae", "k": [1, 2]}],
             "repeats": 2, "seed": 3,
             "train": {"epochs": 2, "latent": 2, "hidden": 8, "train_limit": 40, "eval_samples": 5, "eval_images": 10},
             "eval": {"limit": 3, "nll_chains": 2, "nll_temperatures": 5, "nll_leapfrog": 1, "nvlb_samples": 5}}
            """;
    static final List<String> CELLS = List.of("embedded-iwae-k1/seed-3", "embedded-iwae-k1/seed-4", "embedded-iwae-k2/seed-3",
            "embedded-iwae-k2/seed-4");

    private static Path reference;

    /** The grid on local[2] in a fresh JVM, run once and moved aside: the bytes every cluster run must give. */
    static synchronized Path localGrid() throws Exception {
        if (reference == null) {
            Path log = tmp.resolve("local-grid.log");
            assertEquals(0, SparkJvm.run(gridArgs("local[2]"), log, Map.of()), () -> ShardedEvalTest.read(log));
            reference = Files.move(runs(), tmp.resolve("runs-local"));
        }
        return reference;
    }

    /** Where every grid of this class runs (the same path, so that eval.json's checkpoint paths are the same too). */
    static Path runs() {
        return tmp.resolve("runs");
    }

    static List<String> gridArgs(String master, String... extra) throws Exception {
        Path grid = tmp.resolve("grid.json");
        Files.writeString(grid, GRID);
        List<String> a = new java.util.ArrayList<>(List.of("grid", grid.toString(), "--master", master, "--runs", runs().toString()));
        a.addAll(List.of(extra));
        return a;
    }

    /**
     * Every file under {@code root} and a digest of its bytes, but for timings.jsonl (wall-clock times), the lock files
     * and the kill tests' markers.
     */
    static Map<String, String> files(Path root) throws Exception {
        Map<String, String> m = new java.util.TreeMap<>();
        try (var all = Files.walk(root)) {
            for (Path p : all.filter(Files::isRegularFile).toList()) {
                String name = p.getFileName().toString();
                if (!name.equals("timings.jsonl") && !name.equals("lock") && !name.equals(InjectedFaults.PAUSED)) {
                    m.put(root.relativize(p).toString(), java.util.HexFormat.of().formatHex(
                            java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
                }
            }
        }
        return m;
    }

    /** The grid submitted to the cluster: every cell's files equal the local[2] grid's; the executors fetched the jars. */
    @Test
    void aGridOnTheClusterEqualsTheLocalGrid() throws Exception {
        Map<String, String> want = files(localGrid());
        for (String cell : CELLS) {
            for (String f : List.of("config.json", "model.safetensors", "metrics.jsonl", "eval.json", "eval-test.jsonl")) {
                assertTrue(want.containsKey(cell + "/" + f), cell + "/" + f + " missing: " + want.keySet());
            }
        }
        Path log = tmp.resolve("cluster-grid.log");
        try {
            assertEquals(0, SparkJvm.run(gridArgs(cluster.master, "--conf", "spark.eventLog.enabled=true",
                    "--conf", "spark.eventLog.dir=" + TestCluster.events(cluster.dir).toUri()), log, Map.of()), () -> ShardedEvalTest.read(log));
            String out = Files.readString(log);
            for (String cell : CELLS) {
                assertTrue(out.matches("(?s).*aiwae: " + cell + " running on 127\\.0\\.0\\.1 \\(executor \\d+\\).*"), cell + ": " + out);
                assertTrue(out.matches("(?s).*aiwae: " + cell + " done on 127\\.0\\.0\\.1 \\(executor \\d+\\) in [0-9.]+ s \\([1-4] of 4\\).*"),
                        cell + ": " + out);
            }
            assertTrue(out.contains("4 cells in") && out.contains("4 done, 0 failed"), out);
            assertEquals(want, files(runs()));
        } finally {
            Files.move(runs(), tmp.resolve("runs-cluster"));
        }
        // the cells ran in the executors, which fetched the application jar from the driver into their work folders
        List<Path> stderr = executorFiles("stderr");
        assertTrue(stderr.stream().anyMatch(f -> ShardedEvalTest.read(f).contains("aiwae: training iwae")), stderr.toString());
        assertTrue(!executorFiles(SparkJvm.applicationJar().getFileName().toString()).isEmpty(), "no executor fetched the jar");
        // the run's event log, and the cluster's history server shows the application as completed
        org.aiwae.cluster.StandaloneCluster c = org.aiwae.cluster.StandaloneCluster.open(cluster.dir);
        String apps = "";
        for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60); System.nanoTime() < end; Thread.sleep(500)) {
            apps = c.historyApplications(java.time.Duration.ofSeconds(10)).toString();
            if (apps.contains("\"name\":\"aiwae grid grid.json\"") && apps.contains("\"completed\":true")) {
                break;
            }
        }
        assertTrue(apps.contains("\"name\":\"aiwae grid grid.json\"") && apps.contains("\"completed\":true"), apps);
    }

    /**
     * eval --master --shards 3 submitted with spark-submit (SparkSubmit, client mode, on the cluster's Spark installation,
     * the application jar and its dependencies given as spark-submit's jar and --jars): eval.json and eval-test.jsonl
     * equal an unsharded evaluation's bytes.
     */
    @Test
    void aShardedEvaluationThroughSparkSubmitEqualsTheUnshardedOne() throws Exception {
        Path run = localGrid().resolve(CELLS.get(1)), whole = unshardedEval(), sharded = tmp.resolve("eval-sharded");
        Path log = tmp.resolve("eval.log");
        assertEquals(0, cluster.submit(shardedEvalArgs(run, sharded), log), () -> ShardedEvalTest.read(log));
        String out = Files.readString(log);
        assertTrue(out.contains("9 images in 3 shards on Spark"), out);
        for (String shard : List.of("test images 0:3", "test images 3:6", "test images 6:9")) {
            assertTrue(out.matches("(?s).*aiwae: " + shard + " done on 127\\.0\\.0\\.1 \\(executor \\d+\\).*"), shard + ": " + out);
        }
        assertArrayEquals(Files.readAllBytes(whole.resolve("eval-test.jsonl")), Files.readAllBytes(sharded.resolve("eval-test.jsonl")));
        assertArrayEquals(Files.readAllBytes(whole.resolve("eval.json")), Files.readAllBytes(sharded.resolve("eval.json")));
        assertFalse(Files.exists(sharded.resolve(Evaluation.SHARDS)), "the shards' folders are removed once merged");
    }

    private static Path whole;

    /** The evaluation of the second cell without Spark, in a fresh JVM, once. */
    static synchronized Path unshardedEval() throws Exception {
        if (whole == null) {
            Path out = tmp.resolve("eval-whole"), log = tmp.resolve("eval-whole.log");
            assertEquals(0, SparkJvm.run(evalArgs(localGrid().resolve(CELLS.get(1)), out), log, Map.of()), () -> ShardedEvalTest.read(log));
            whole = out;
        }
        return whole;
    }

    /**
     * SIGKILL of a worker and its executor while a cell is in its second epoch: the grid completes on the other worker,
     * every file equals the local[2] grid's, and each cell trained each epoch once (the killed one resumed from its
     * epoch-1 checkpoint). Meanwhile a dry run shows the cell running, and a second grid over the same folder is
     * refused in one line.
     */
    @Test
    void aWorkerKilledMidGridCostsOnlyTheInterruptedEpoch() throws Exception {
        Map<String, String> want = files(localGrid());
        String victim = CELLS.get(0);
        Path log = tmp.resolve("kill-grid.log");
        String fault = InjectedFaults.option(InjectedFaults.pauseInEpoch(2, victim));
        Process driver = SparkJvm.start(gridArgs(cluster.master, "--conf", "spark.executor.extraJavaOptions=" + fault), log, Map.of(),
                List.of(fault));
        try {
            long pid = awaitPause(runs().resolve(victim).resolve(InjectedFaults.PAUSED), driver, log);
            int worker = cluster.workerOf(pid);
            assertTrue(worker > 0, "pid " + pid + " is no worker's executor");

            CliRun dry = CliRun.of(gridArgs(cluster.master, "--dry-run"));
            assertTrue(dry.out().contains(victim + " (running: " + pid + "@") && dry.out().contains("trained 1 of 2 epochs)"), dry.out());
            Path second = tmp.resolve("second-grid.log");
            assertEquals(2, SparkJvm.run(gridArgs(cluster.master), second, Map.of()), () -> ShardedEvalTest.read(second));
            List<String> lines = Files.readAllLines(second).stream().filter(l -> !l.startsWith("WARNING:")).toList();
            assertTrue(lines.size() == 1 && lines.get(0).matches("aiwae: grid folder .* is in use by process \\d+@.*"), lines.toString());

            cluster.killWorker(worker);
            assertTrue(driver.waitFor(300, TimeUnit.SECONDS), () -> "the grid did not finish: " + ShardedEvalTest.read(log));
            String out = Files.readString(log);
            assertEquals(0, driver.exitValue(), out);
            assertTrue(out.matches("(?s).*aiwae: " + victim + " attempt 1 failed on 127\\.0\\.0\\.1 \\(executor \\d+\\): .*"), out);
            assertTrue(out.matches("(?s).*aiwae: " + victim + " running on 127\\.0\\.0\\.1 \\(executor \\d+\\), attempt 2.*"), out);
            assertEquals(want, files(runs()));
            for (String cell : CELLS) {
                List<String> epochs = Files.readAllLines(runs().resolve(cell).resolve("timings.jsonl")).stream()
                        .map(l -> l.replaceFirst("^\\{\"epoch\":(\\d+),.*", "$1")).toList();
                assertEquals(List.of("1", "2"), epochs, cell + " trained these epochs");
            }
        } finally {
            driver.destroyForcibly().waitFor();
            if (Files.exists(runs())) {
                Files.move(runs(), Files.createTempDirectory(tmp, "runs-killed").resolve("runs"));
            }
            cluster.runStart(); // the killed worker back
        }
    }

    /**
     * SIGKILL of a worker and its executor while a shard of a sharded evaluation waits after its first batch: the
     * shard is run again on the other worker, resuming after the images it had written, and the merged eval.json and
     * eval-test.jsonl equal the unsharded evaluation's bytes.
     */
    @Test
    void aWorkerKilledDuringAShardedEvaluation() throws Exception {
        Path run = localGrid().resolve(CELLS.get(1)), want = unshardedEval(), out = tmp.resolve("eval-killed");
        Path log = tmp.resolve("kill-eval.log");
        String shard = "test images 0:3";
        String fault = InjectedFaults.option(InjectedFaults.pauseAfterBatch(Evaluation.SHARDS + "/test-0-3"));
        List<String> args = new java.util.ArrayList<>(shardedEvalArgs(run, out));
        args.addAll(List.of("--conf", "spark.executor.extraJavaOptions=" + fault));
        Process driver = SparkJvm.start(args, log, Map.of(), List.of(fault));
        try {
            long pid = awaitPause(out.resolve(Evaluation.SHARDS).resolve("test-0-3").resolve(InjectedFaults.PAUSED), driver, log);
            int worker = cluster.workerOf(pid);
            assertTrue(worker > 0, "pid " + pid + " is no worker's executor");
            cluster.killWorker(worker);
            assertTrue(driver.waitFor(300, TimeUnit.SECONDS), () -> "the evaluation did not finish: " + ShardedEvalTest.read(log));
            String text = Files.readString(log);
            assertEquals(0, driver.exitValue(), text);
            assertTrue(text.contains("aiwae: " + shard + " attempt 1 failed on 127.0.0.1"), text);
            assertArrayEquals(Files.readAllBytes(want.resolve("eval-test.jsonl")), Files.readAllBytes(out.resolve("eval-test.jsonl")));
            assertArrayEquals(Files.readAllBytes(want.resolve("eval.json")), Files.readAllBytes(out.resolve("eval.json")));
            // the second attempt continued the shard's own results: the first batch (2 images) was not evaluated again
            assertTrue(executorFiles("stderr").stream().anyMatch(f -> ShardedEvalTest.read(f)
                    .contains("aiwae: test: 2 of 3 images already in eval-test.jsonl; evaluating the other 1")), "no resumed shard");
        } finally {
            driver.destroyForcibly().waitFor();
            cluster.runStart();
        }
    }

    /** Waits until a kill-test hook writes its marker (pid@host) and returns the pid; fails if the driver ends first. */
    static long awaitPause(Path marker, Process driver, Path log) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (System.nanoTime() < end) {
            if (Files.exists(marker)) {
                String text = Files.readString(marker);
                if (text.endsWith("\n")) {
                    return Long.parseLong(text.substring(0, text.indexOf('@')));
                }
            }
            assertTrue(driver.isAlive(), () -> "the driver ended before the pause: " + ShardedEvalTest.read(log));
            Thread.sleep(100);
        }
        throw new AssertionError("no pause in 240 s: " + ShardedEvalTest.read(log));
    }

    /** {@link #evalArgs} on the cluster in 3 shards. */
    static List<String> shardedEvalArgs(Path run, Path out) {
        List<String> a = new java.util.ArrayList<>(evalArgs(run, out));
        a.addAll(List.of("--master", cluster.master, "--shards", "3"));
        return a;
    }

    static List<String> evalArgs(Path run, Path out) {
        return List.of("eval", "--checkpoint", run.toString(), "--out", out.toString(), "--limit", "9", "--batch", "2",
                "--nll-chains", "2", "--nll-temperatures", "10", "--nll-leapfrog", "1", "--nvlb-samples", "5");
    }

    /**
     * One GPU per task (spark.executor/task.resource.gpu.amount=1; worker N's discovery script reports CUDA device
     * N-1): each cell's commands run with --backend cuda:A for the GPU A of its task, which its executor's log says and
     * its config.json records; a cell whose device does not open (no CUDA driver in CI; a device beyond what the null
     * driver reports) fails alone, in one line naming the device, and the grid goes on and exits with status 1.
     */
    @Test
    void eachTaskRunsOnTheGpuSparkGaveIt() throws Exception {
        Map<String, String> outcome = gpuGrid(tmp.resolve("gpu-runs"), List.of());
        if (NULL_CUDA != null) {
            assertEquals(Map.of(CELLS.get(0), "done", CELLS.get(1), "done"), outcome, "on the null driver's 2 devices every cell runs");
        }
    }

    /** With the null driver reporting one device only, the cells Spark puts on GPU 1 fail and the others complete. */
    @Test
    void aCellWhoseGpuDoesNotOpenFailsAloneNotTheGrid() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(NULL_CUDA != null,
                "needs a null CUDA driver: AIWAE_TEST_NULL_CUDA=DIR with DIR/libcuda.so.1 (a libcuda.so.1 whose entry points return success at once)");
        Map<String, String> outcome = gpuGrid(tmp.resolve("gpu-runs-1"), List.of("--conf", "spark.executorEnv.NULL_CUDA_DEVICES=1"));
        assertEquals(java.util.Set.of("done", "failed"), new java.util.HashSet<>(outcome.values()), outcome.toString());
    }

    /**
     * A 2-cell grid on backend cuda, one GPU per task and one attempt; checks that each cell ran on its task's GPU and
     * either completed (config.json: cuda:A) or failed in one line naming cuda:A; returns cell to "done" / "failed".
     */
    private static Map<String, String> gpuGrid(Path runs, List<String> conf) throws Exception {
        Path grid = tmp.resolve(runs.getFileName() + ".json"), log = tmp.resolve(runs.getFileName() + ".log");
        Files.writeString(grid, GRID.replace("\"k\": [1, 2]", "\"k\": [1]").replace("\"seed\": 3,", "\"seed\": 3, \"backend\": \"cuda\","));
        List<String> args = new java.util.ArrayList<>(List.of("grid", grid.toString(), "--master", cluster.master, "--runs", runs.toString(),
                "--conf", "spark.executor.resource.gpu.amount=1", "--conf", "spark.task.resource.gpu.amount=1",
                "--conf", "spark.task.maxFailures=1",
                // wait for both executors before the first task, so that the two cells go one to each GPU
                "--conf", "spark.cores.max=2", "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0"));
        args.addAll(conf);
        List<Path> before = executorFiles("stderr");
        int status = SparkJvm.run(args, log, Map.of());
        String out = Files.readString(log);
        Map<String, String> outcome = new java.util.TreeMap<>();
        java.util.Set<String> used = new java.util.TreeSet<>();
        for (String cell : CELLS.subList(0, 2)) {
            // the executor of worker N ran the cell on GPU N-1 (its log says so)
            String gave = "aiwae: " + cell + ": Spark gave this task GPU ";
            List<String> gpus = new java.util.ArrayList<>();
            for (Path f : executorFiles("stderr").stream().filter(f -> !before.contains(f)).toList()) { // this grid's executors
                int worker = Integer.parseInt(cluster.dir.relativize(f).getName(1).toString().substring("worker-".length()));
                for (String l : ShardedEvalTest.read(f).lines().filter(l -> l.startsWith(gave)).toList()) {
                    String gpu = l.substring(gave.length(), l.indexOf(':', gave.length()));
                    assertEquals("" + (worker - 1), gpu, "worker-" + worker + "'s executor: " + l);
                    gpus.add(gpu);
                }
            }
            assertEquals(1, gpus.size(), cell + " ran once, on a GPU: " + gpus);
            used.add(gpus.get(0));
            Path dir = runs.resolve(cell);
            if (Files.isRegularFile(dir.resolve("eval.json"))) {
                assertTrue(Files.readString(dir.resolve("config.json")).contains("\"backend\":\"cuda:" + gpus.get(0) + "\""),
                        Files.readString(dir.resolve("config.json")));
                outcome.put(cell, "done");
            } else {
                assertTrue(out.matches("(?s).*\naiwae: cell " + cell + ": train exited with status 2: aiwae: --backend cuda:" + gpus.get(0)
                        + ": CUDA: [^\n]+\n.*"), cell + ": " + out);
                assertFalse(Files.exists(dir.resolve("config.json")), "a cell whose GPU did not open writes nothing");
                outcome.put(cell, "failed");
            }
        }
        assertEquals(outcome.containsValue("failed") ? 1 : 0, status, out);
        assertEquals(java.util.Set.of("0", "1"), used, "one cell on each worker's GPU");
        return outcome;
    }

    /** Files named {@code name} in the executors' work folders (work/worker-N/APP/ID/). */
    static List<Path> executorFiles(String name) throws Exception {
        try (var all = Files.walk(cluster.dir.resolve("work"))) {
            return all.filter(p -> p.getFileName().toString().equals(name)).toList();
        }
    }

    /** The daemons run on Spark's jars alone (no aiwae jar), bound to 127.0.0.1; status lists both workers. */
    @Test
    void theDaemonsRunOnSparksJarsAndStatusListsTheWorkers() throws Exception {
        assertTrue(cluster.master.matches("spark://127\\.0\\.0\\.1:\\d+"), cluster.master);
        for (String d : List.of("master", "history", "worker-1", "worker-2")) {
            List<String> args = List.of(cluster.daemon(d).info().arguments().orElseThrow());
            assertTrue(args.contains(Map.of("master", "org.apache.spark.deploy.master.Master", "history",
                    "org.apache.spark.deploy.history.HistoryServer").getOrDefault(d, "org.apache.spark.deploy.worker.Worker")), args.toString());
            if (!d.equals("history")) {
                assertEquals("127.0.0.1", args.get(args.indexOf("--host") + 1));
            }
            String cp = args.get(args.indexOf("-cp") + 1);
            assertTrue(cp.contains("spark-home") && !cp.contains("aiwae"), cp);
        }
        try (var jars = Files.list(cluster.dir.resolve("spark-home/jars"))) {
            List<String> names = jars.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.startsWith("spark-core_")), names.toString());
            assertTrue(names.stream().noneMatch(n -> n.startsWith("aiwae")), names.toString());
        }
        CliRun status = CliRun.of("cluster", "status", "--dir", cluster.dir.toString());
        assertEquals(0, status.status(), status.err());
        assertTrue(status.out().startsWith("master " + cluster.master + " ALIVE"), status.out());
        assertTrue(status.out().contains("history server http://127.0.0.1:") && !status.out().contains("NOT RUNNING"), status.out());
        assertEquals(2, status.out().lines().filter(l -> l.startsWith("worker 127.0.0.1:") && l.contains("ALIVE")).count(), status.out());
    }

    /** Starting again with the same layout starts nothing; another layout, a bad flag or a folder without a cluster is one line. */
    @Test
    void startingAgainStartsNothingAndAnotherLayoutIsOneLine() throws Exception {
        List<Long> before = List.of(cluster.daemon("master").pid(), cluster.daemon("worker-1").pid(), cluster.daemon("worker-2").pid());
        String again = cluster.runStart();
        assertTrue(again.contains(cluster.master) && !again.contains("started worker"), again);
        assertEquals(before, List.of(cluster.daemon("master").pid(), cluster.daemon("worker-1").pid(), cluster.daemon("worker-2").pid()));

        CliRun other = CliRun.of("cluster", "start", "--dir", cluster.dir.toString(), "--workers", "3");
        assertEquals(2, other.status(), other.err());
        assertTrue(other.err().contains("runs with 2 workers x 1 core") && other.err().lines().count() == 1, other.err());

        CliRun bad = CliRun.of("cluster", "start", "--dir", cluster.dir.toString(), "--workers", "0");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("--workers must be between 1 and 64"), bad.err());

        CliRun none = CliRun.of("cluster", "status", "--dir", tmp.resolve("nothing").toString());
        assertEquals(2, none.status());
        assertTrue(none.err().contains("holds no cluster"), none.err());
    }
}
