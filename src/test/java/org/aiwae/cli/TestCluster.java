package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A Spark standalone cluster for the cluster tests, started as a user starts one ({@code aiwae cluster
 * start} in a fresh JVM, which exits and leaves the daemons running) and stopped with {@code aiwae cluster
 * stop}. Every daemon and executor pid it sees is remembered, and {@link #close} kills whatever of them is
 * still alive after the stop, so that no test leaves a JVM behind, whatever failed.
 */
final class TestCluster implements AutoCloseable {
    final Path dir;
    final String master;
    private final List<String> startArgs;
    private final Map<String, String> env;
    private final Set<Long> seen = new LinkedHashSet<>();

    private TestCluster(Path dir, String master, List<String> startArgs, Map<String, String> env) {
        this.dir = dir;
        this.master = master;
        this.startArgs = startArgs;
        this.env = env;
    }

    /**
     * {@code aiwae cluster start --dir DIR --workers N --cores 1 --gpus-per-worker G --event-log DIR/../events} with
     * {@code env}: a master, N workers and a history server.
     */
    static TestCluster start(Path dir, int workers, int gpusPerWorker, Map<String, String> env) throws Exception {
        List<String> args = List.of("cluster", "start", "--dir", dir.toString(), "--workers", "" + workers, "--cores", "1",
                "--memory", "1g", "--gpus-per-worker", "" + gpusPerWorker, "--event-log", events(dir).toString(), "--timeout", "150");
        TestCluster c = new TestCluster(dir, null, args, env);
        String out;
        try {
            out = c.runStart();
        } catch (Throwable t) {
            c.close();
            throw t;
        }
        String master = out.lines().filter(l -> l.startsWith("spark://")).findFirst().orElseThrow();
        TestCluster started = new TestCluster(dir, master, args, env);
        started.remember();
        return started;
    }

    /** The folder of the cluster's event logs, which its history server shows. */
    static Path events(Path dir) {
        return dir.resolveSibling("events");
    }

    /** Runs the start command (again: restarts the workers that are down) and returns its output. */
    String runStart() throws Exception {
        Path log = Files.createTempFile(dir.getParent(), "cluster-start", ".log");
        int status;
        try {
            status = SparkJvm.run(startArgs, log, env);
        } finally {
            remember();
        }
        String out = Files.readString(log);
        assertEquals(0, status, out);
        return out;
    }

    /**
     * {@code spark-submit --master URL --class org.aiwae.cli.Main --jars DEPENDENCIES APPLICATION.jar ARGS} in a fresh JVM,
     * as Spark's spark-submit script runs it: SparkSubmit on the cluster's Spark installation (spark-home), the driver's
     * JVM options that script would add (Spark's module options, aiwae's vector module); returns the exit status.
     */
    int submit(List<String> args, Path log) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-Daiwae.threads=1", "-Dlog4j2.configurationFile=" + Path.of("..", "bin", "lib", "spark-log4j2.properties").toAbsolutePath().normalize()));
        cmd.addAll(List.of(org.apache.spark.launcher.JavaModuleOptions.defaultModuleOptionArray()));
        cmd.addAll(List.of("-cp", dir.resolve("spark-home/conf") + "/:" + dir.resolve("spark-home/jars") + "/*",
                "org.apache.spark.deploy.SparkSubmit", "--master", master, "--deploy-mode", "client", "--class", Main.class.getName(),
                "--jars", String.join(",", Files.readString(Path.of("target", "runtime-classpath.txt")).strip().split(java.io.File.pathSeparator)),
                SparkJvm.applicationJar().toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().put("AIWAE_NO_PROGRESS", "1");
        Process p = pb.start();
        if (!p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            assertTrue(false, "spark-submit " + args + " did not finish in 300 s: " + Files.readString(log));
        }
        return p.exitValue();
    }

    /** The live daemon {@code name} (master, worker-N) by its pid file. */
    ProcessHandle daemon(String name) throws Exception {
        long pid = Long.parseLong(Files.readString(dir.resolve(name + ".pid")).strip());
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        assertTrue(h.isPresent() && h.get().isAlive(), name + " pid " + pid + " is not alive");
        return h.get();
    }

    /** SIGKILL of worker {@code n} and of its executors, as when a machine of a cluster dies. */
    void killWorker(int n) throws Exception {
        ProcessHandle w = daemon("worker-" + n);
        List<ProcessHandle> all = new ArrayList<>(w.descendants().toList());
        all.add(0, w);
        for (ProcessHandle h : all) {
            seen.add(h.pid());
            h.destroyForcibly();
        }
        for (ProcessHandle h : all) {
            h.onExit().get();
        }
    }

    /** The worker whose executor is process {@code pid}, or 0. */
    int workerOf(long pid) throws Exception {
        for (int n = 1; Files.exists(dir.resolve("worker-" + n + ".pid")); n++) {
            long w = Long.parseLong(Files.readString(dir.resolve("worker-" + n + ".pid")).strip());
            if (ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L) == w) {
                return n;
            }
        }
        return 0;
    }

    /** The pids of the daemons and their child processes (executors) now. */
    private void remember() {
        try (var files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".pid")).toList()) {
                long pid = Long.parseLong(Files.readString(p).strip());
                seen.add(pid);
                ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> seen.add(d.pid())));
            }
        } catch (Exception e) {
            // no folder or pid file yet: nothing started
        }
    }

    /** Every process that belonged to the cluster and is still alive. */
    List<Long> alive() {
        return seen.stream().filter(pid -> ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(this::ours).isPresent()).toList();
    }

    /** Whether a process runs from this cluster's folder (daemons say so, executors run on its spark-home), not a reused pid. */
    private boolean ours(ProcessHandle h) {
        return h.info().arguments().map(a -> String.join(" ", a).contains(dir.toAbsolutePath().normalize().toString())).orElse(false);
    }

    /** {@code aiwae cluster stop}, then SIGKILL of anything of the cluster that survived it. */
    @Override
    public void close() {
        remember();
        try {
            CliRun.of("cluster", "stop", "--dir", dir.toString());
        } finally {
            for (long pid : seen) {
                ProcessHandle.of(pid).filter(this::ours).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }
}
