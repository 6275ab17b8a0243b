package org.aiwae.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.aiwae.AiwaeException;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;
import org.apache.spark.launcher.JavaModuleOptions;

/**
 * A Spark standalone cluster on this machine, to try the cluster path before a real one: one master
 * ({@code org.apache.spark.deploy.master.Master}) and N workers ({@code ...deploy.worker.Worker}), each
 * a JVM of its own bound to 127.0.0.1, started from the Spark jars that Maven resolved. Those jars are
 * linked into {@code DIR/spark-home/jars/}, the layout of a Spark distribution, because a worker builds
 * its executors' classpath from there; the application's own jars are not among them and reach the
 * executors from the driver ({@code spark.jars}), as on a real cluster.
 *
 * <p>The folder {@code DIR}: {@code cluster.json} (the master URL, the web UI, the layout),
 * {@code master.pid} and {@code worker-N.pid}, {@code logs/master.log} and {@code logs/worker-N.log},
 * {@code work/worker-N/} (one folder per executor with its {@code stdout} and {@code stderr}) and
 * {@code spark-home/} (jars, {@code conf/spark-defaults.conf}, {@code conf/log4j2.properties}, GPU
 * discovery scripts). Every daemon carries {@code -Daiwae.cluster=DIR} on its command line, so
 * {@link #stop} ends exactly the processes this folder started, never a process that reuses a pid.
 */
public final class StandaloneCluster {
    /** The loopback address every daemon binds to. */
    public static final String HOST = "127.0.0.1";
    static final String INFO = "cluster.json";
    static final String MASTER = "master";
    private static final String MASTER_CLASS = "org.apache.spark.deploy.master.Master";
    private static final String WORKER_CLASS = "org.apache.spark.deploy.worker.Worker";
    private static final String HISTORY_CLASS = "org.apache.spark.deploy.history.HistoryServer";
    static final String HISTORY = "history";
    private static final Pattern SCALA = Pattern.compile("spark-core_(\\d+\\.\\d+)-.*\\.jar");
    static final int STOP_GRACE_SECONDS = 15;

    /**
     * What to start.
     *
     * @param workers       worker JVMs
     * @param cores         cores each worker offers
     * @param memory        memory each worker offers (Spark's syntax: {@code 2g}); null: Spark's default (all but 1 GiB)
     * @param gpusPerWorker GPUs each worker offers ({@code spark.worker.resource.gpu}): worker N gets CUDA ordinals
     *                      {@code (N-1)*G .. N*G-1}, reported by a discovery script written for it; 0: none
     * @param port          the master's port; 0: a free one
     * @param webUiPort     the master's web UI port; 0: a free one
     * @param eventLog      a folder for Spark's event logs, shown by a history server that the cluster starts too; null: none
     */
    public record Config(int workers, int cores, String memory, int gpusPerWorker, int port, int webUiPort, Path eventLog) {
        public Config {
            if (workers < 1 || cores < 1 || gpusPerWorker < 0) {
                throw new IllegalArgumentException("workers and cores must be at least 1, gpus at least 0");
            }
        }
    }

    /**
     * {@code cluster.json}: where the cluster answers and how it was started; {@code eventLog} (a file: URI) and
     * {@code historyUi} only with a history server.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Info(String master, String webUi, int workers, int cores, String memory, int gpusPerWorker, String eventLog,
                       String historyUi) {}

    /** A live daemon of this cluster. */
    public record Daemon(String name, long pid) {}

    private final Path dir;
    private final Info info;
    private final List<String> javaCommand;
    private final Map<String, String> env;

    private StandaloneCluster(Path dir, Info info, List<String> javaCommand, Map<String, String> env) {
        this.dir = dir;
        this.info = info;
        this.javaCommand = javaCommand;
        this.env = env;
    }

    public Info info() {
        return info;
    }

    public Path dir() {
        return dir;
    }

    /**
     * Starts a master and {@code c.workers()} workers in {@code dir} and waits until every worker has
     * registered; on failure or timeout everything started is stopped again and the error names the log.
     * Where the folder's master is running already (with the same layout), only the workers that are not
     * running are started: a killed worker comes back. The daemons inherit this process's environment,
     * and their executors inherit it from them (e.g. {@code LD_LIBRARY_PATH}, {@code CUDA_VISIBLE_DEVICES}).
     *
     * @param sparkJars the jars of Spark and its dependencies (the runtime classpath of spark-core), asked for
     *                  only by a fresh start
     */
    public static StandaloneCluster start(Path dir, Config c, Supplier<List<Path>> sparkJars, Duration timeout) {
        Path abs = dir.toAbsolutePath().normalize();
        Path home = abs.resolve("spark-home");
        List<String> javaCmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Daiwae.cluster=" + abs, "-Xmx1g"));
        javaCmd.addAll(List.of(JavaModuleOptions.defaultModuleOptionArray()));
        if (handle(abs, MASTER).isPresent()) {
            Info was = open(abs).info();
            if (was.workers() != c.workers() || was.cores() != c.cores() || was.gpusPerWorker() != c.gpusPerWorker()
                    || !Objects.equals(was.memory(), c.memory()) || !Objects.equals(was.eventLog(), eventLogUri(c.eventLog()))) {
                throw new AiwaeException("the cluster of " + abs + " runs with " + was.workers() + " workers x " + was.cores()
                        + (was.cores() == 1 ? " core" : " cores") + (was.memory() == null ? "" : ", " + was.memory()) + ", " + was.gpusPerWorker()
                        + " GPUs per worker" + (was.eventLog() == null ? "" : ", event logs in " + was.eventLog())
                        + "; stop it first ('aiwae cluster stop --dir " + dir + "') to start another layout");
            }
            StandaloneCluster cluster = new StandaloneCluster(abs, was, javaCmd, environment(home));
            for (int n = 1; n <= c.workers(); n++) {
                if (handle(abs, "worker-" + n).isEmpty()) {
                    cluster.startWorker(n);
                }
            }
            if (was.historyUi() != null && handle(abs, HISTORY).isEmpty()) {
                cluster.startHistory(timeout);
            }
            cluster.awaitWorkers(c.workers(), timeout);
            return cluster;
        }
        stop(abs); // workers left from a master that died: a fresh start
        int port = c.port() > 0 ? c.port() : freePort(), ui = c.webUiPort() > 0 ? c.webUiPort() : freePort();
        Info info = new Info("spark://" + HOST + ":" + port, "http://" + HOST + ":" + ui, c.workers(), c.cores(), c.memory(),
                c.gpusPerWorker(), eventLogUri(c.eventLog()), c.eventLog() == null ? null : "http://" + HOST + ":" + freePort());
        try {
            layout(abs, home, sparkJars.get(), c);
            AtomicFiles.writeString(abs.resolve(INFO), Json.write(info) + "\n");
        } catch (IOException e) {
            throw new AiwaeException("cannot set up the cluster folder " + abs + ": " + e.getMessage());
        }
        StandaloneCluster cluster = new StandaloneCluster(abs, info, javaCmd, environment(home));
        Thread undo = new Thread(() -> stop(abs)); // an interrupted start (Ctrl-C) leaves nothing behind
        Runtime.getRuntime().addShutdownHook(undo);
        try {
            cluster.launch(MASTER, List.of(MASTER_CLASS, "--host", HOST, "--port", "" + port, "--webui-port", "" + ui,
                    "--properties-file", home.resolve("conf/spark-defaults.conf").toString()), List.of());
            cluster.awaitWorkers(0, timeout); // the master first: a worker that finds no master retries only after 10 s
            for (int n = 1; n <= c.workers(); n++) {
                cluster.startWorker(n);
            }
            if (info.historyUi() != null) {
                cluster.startHistory(timeout);
            }
            cluster.awaitWorkers(c.workers(), timeout);
            Runtime.getRuntime().removeShutdownHook(undo);
            return cluster;
        } catch (RuntimeException e) {
            Runtime.getRuntime().removeShutdownHook(undo);
            stop(abs);
            throw e;
        }
    }

    /** The cluster whose folder is {@code dir} (its cluster.json), started earlier; one line when there is none. */
    public static StandaloneCluster open(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        Path f = abs.resolve(INFO);
        if (!Files.isRegularFile(f)) {
            throw new AiwaeException(abs + " holds no cluster (no " + INFO + "); start one with 'aiwae cluster start --dir " + dir + "'");
        }
        return new StandaloneCluster(abs, Json.read(f, Info.class), List.of(), Map.of());
    }

    /** Starts worker {@code n} (1-based; again after it was stopped or killed), registering with the master. */
    public void startWorker(int n) {
        if (javaCommand.isEmpty()) {
            throw new IllegalStateException("workers are started by the StandaloneCluster that started the master");
        }
        Path work = dir.resolve("work").resolve("worker-" + n);
        try {
            Files.createDirectories(work);
        } catch (IOException e) {
            throw new AiwaeException("cannot create " + work + ": " + e.getMessage());
        }
        List<String> props = new ArrayList<>();
        if (info.gpusPerWorker() > 0) {
            props.add("-Dspark.worker.resource.gpu.amount=" + info.gpusPerWorker());
            props.add("-Dspark.worker.resource.gpu.discoveryScript=" + gpuScript(dir.resolve("spark-home"), n));
        }
        List<String> args = new ArrayList<>(List.of(WORKER_CLASS, "--host", HOST, "--port", "0", "--webui-port", "0",
                "--cores", "" + info.cores(), "--work-dir", work.toString(),
                "--properties-file", dir.resolve("spark-home/conf/spark-defaults.conf").toString()));
        if (info.memory() != null) {
            args.addAll(List.of("--memory", info.memory()));
        }
        args.add(info.master());
        launch("worker-" + n, args, props);
    }

    /**
     * Starts the history server over the event log folder (read every 2 s) and waits until it answers; an application
     * submitted with {@code spark.eventLog.enabled=true} and {@code spark.eventLog.dir} set to that folder shows there.
     */
    private void startHistory(Duration timeout) {
        URI logs = URI.create(info.eventLog());
        try {
            Files.createDirectories(Path.of(logs));
        } catch (IOException e) {
            throw new AiwaeException("cannot create the event log folder " + Path.of(logs) + ": " + e.getMessage());
        }
        launch(HISTORY, List.of(HISTORY_CLASS, "--properties-file", dir.resolve("spark-home/conf/spark-defaults.conf").toString()),
                List.of("-Dspark.history.fs.logDirectory=" + logs, "-Dspark.history.ui.port=" + URI.create(info.historyUi()).getPort(),
                        "-Dspark.history.fs.update.interval=2s"));
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                get(info.historyUi() + "/api/v1/applications", Duration.ofSeconds(5));
                return;
            } catch (IOException e) {
                if (daemon(HISTORY).isEmpty() || System.nanoTime() > end) {
                    throw new AiwaeException("the cluster's history server did not start; its log: "
                            + lastLines(dir.resolve("logs/" + HISTORY + ".log")));
                }
            }
            sleep(250);
        }
    }

    /** The event log folder as the file: URI Spark takes (without the trailing slash a URI of an existing folder has). */
    private static String eventLogUri(Path eventLog) {
        return eventLog == null ? null : eventLog.toAbsolutePath().normalize().toUri().toString().replaceFirst("(?<=.)/$", "");
    }

    private void launch(String name, List<String> args, List<String> props) {
        Path log = dir.resolve("logs").resolve(name + ".log");
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid"); // its own session: a terminal's hangup or Ctrl-C after the start does not reach it
        }
        cmd.add(javaCommand.get(0));
        cmd.add("-Daiwae.daemon=" + name); // with -Daiwae.cluster=DIR, early on the command line: what stop checks
        cmd.addAll(javaCommand.subList(1, javaCommand.size()));
        cmd.addAll(props);
        cmd.addAll(List.of("-cp", dir.resolve("spark-home/conf") + File.separator + File.pathSeparator
                + dir.resolve("spark-home/jars") + File.separator + "*"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            AtomicFiles.writeString(pidFile(dir, name), p.pid() + "\n");
        } catch (IOException e) {
            throw new AiwaeException("cannot start the cluster's " + name + " (" + cmd.get(0) + "): " + e.getMessage());
        }
    }

    /** Waits until the master answers with {@code n} workers alive; the master's and workers' deaths end the wait early. */
    public void awaitWorkers(int n, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        String last = "the master does not answer at " + info.webUi();
        while (System.nanoTime() < end) {
            if (daemon(MASTER).isEmpty()) {
                throw new AiwaeException("the cluster's master exited; its log: " + lastLines(dir.resolve("logs/master.log")));
            }
            for (int w = 1; w <= info.workers(); w++) {
                if (Files.exists(pidFile(dir, "worker-" + w)) && daemon("worker-" + w).isEmpty()) {
                    throw new AiwaeException("the cluster's worker-" + w + " exited; its log: "
                            + lastLines(dir.resolve("logs/worker-" + w + ".log")));
                }
            }
            try {
                JsonNode state = masterState(Duration.ofSeconds(5));
                int alive = state.path("aliveworkers").asInt();
                if (alive >= n) {
                    return;
                }
                last = alive + " of " + n + " workers registered";
            } catch (IOException e) {
                // not up yet
            }
            sleep(250);
        }
        throw new AiwaeException("the cluster did not come up in " + timeout.toSeconds() + " s (" + last + "); logs in " + dir.resolve("logs"));
    }

    /** The master's view ({@code WEBUI/json/}): url, status, aliveworkers, workers with their cores and resources. */
    public JsonNode masterState(Duration timeout) throws IOException {
        return get(info.webUi() + "/json/", timeout);
    }

    /** The applications the history server shows ({@code HISTORY/api/v1/applications}). */
    public JsonNode historyApplications(Duration timeout) throws IOException {
        if (info.historyUi() == null) {
            throw new IOException("this cluster has no history server (start it with --event-log DIR)");
        }
        return get(info.historyUi() + "/api/v1/applications", timeout);
    }

    private static JsonNode get(String url, Duration timeout) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        c.setConnectTimeout((int) timeout.toMillis());
        c.setReadTimeout((int) timeout.toMillis());
        try (InputStream in = c.getInputStream()) {
            return Json.tree(in.readAllBytes(), url);
        } catch (AiwaeException e) {
            throw new IOException(e.getMessage(), e);
        } finally {
            c.disconnect();
        }
    }

    /** The live daemon {@code name} (master, worker-N) of this cluster, if its pid file names one. */
    public Optional<ProcessHandle> daemon(String name) {
        return handle(dir, name);
    }

    /** The live daemons of the cluster in {@code dir}, master first. */
    public static List<Daemon> running(Path dir) {
        return live(dir.toAbsolutePath().normalize());
    }

    /**
     * Stops the daemons of the cluster in {@code dir}: each one whose pid file names a live process started
     * for this folder (its command line says so) gets SIGTERM, and SIGKILL with its child processes (the
     * executors) if still there after {@value #STOP_GRACE_SECONDS} s; pid files naming anything else are
     * removed without touching that process. Returns one line per daemon.
     */
    public static List<String> stop(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        List<String> report = new ArrayList<>();
        List<ProcessHandle> stopping = new ArrayList<>();
        List<ProcessHandle> children = new ArrayList<>();
        for (String name : names(abs)) {
            Optional<ProcessHandle> h = handle(abs, name);
            if (h.isEmpty()) {
                report.add(name + ": not running");
            } else {
                children.addAll(h.get().descendants().toList());
                h.get().destroy();
                stopping.add(h.get());
                report.add(name + ": stopped pid " + h.get().pid());
            }
        }
        long end = System.nanoTime() + Duration.ofSeconds(STOP_GRACE_SECONDS).toNanos();
        for (ProcessHandle h : stopping) {
            while (h.isAlive() && System.nanoTime() < end) {
                sleep(100);
            }
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
        for (ProcessHandle h : children) {
            h.destroyForcibly(); // executors whose worker did not take them down
        }
        for (String name : names(abs)) {
            try {
                Files.deleteIfExists(pidFile(abs, name));
            } catch (IOException e) {
                report.add(name + ": cannot remove " + pidFile(abs, name) + ": " + e.getMessage());
            }
        }
        return report;
    }

    private static List<Daemon> live(Path dir) {
        List<Daemon> out = new ArrayList<>();
        for (String name : names(dir)) {
            handle(dir, name).ifPresent(h -> out.add(new Daemon(name, h.pid())));
        }
        return out;
    }

    /** master, history, then worker-1, worker-2, ... as their pid files say. */
    private static List<String> names(Path dir) {
        List<String> names = new ArrayList<>();
        for (String d : List.of(MASTER, HISTORY)) {
            if (Files.exists(pidFile(dir, d))) {
                names.add(d);
            }
        }
        try (var files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString()).filter(f -> f.matches("worker-\\d+\\.pid"))
                    .map(f -> f.substring(0, f.length() - 4))
                    .sorted(Comparator.comparingInt(f -> Integer.parseInt(f.substring(7))))
                    .forEach(names::add);
        } catch (IOException e) {
            // no folder: no daemons
        }
        return names;
    }

    /** The process of pid file {@code name}, if it is alive and was started for {@code dir} as {@code name}. */
    private static Optional<ProcessHandle> handle(Path dir, String name) {
        long pid;
        try {
            pid = Long.parseLong(Files.readString(pidFile(dir, name), StandardCharsets.UTF_8).strip());
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> {
            List<String> args = h.info().arguments().map(List::of).orElse(List.of());
            return args.contains("-Daiwae.cluster=" + dir) && args.contains("-Daiwae.daemon=" + name);
        });
    }

    static Path pidFile(Path dir, String name) {
        return dir.resolve(name + ".pid");
    }

    /** spark-home/jars (links to the Spark jars), its conf/ and the folders for logs and pid files. */
    private static void layout(Path dir, Path home, List<Path> sparkJars, Config c) throws IOException {
        Path jars = home.resolve("jars"), conf = home.resolve("conf");
        Files.createDirectories(jars);
        Files.createDirectories(conf);
        Files.createDirectories(dir.resolve("logs"));
        try (var old = Files.list(jars)) {
            for (Path p : old.toList()) {
                Files.delete(p);
            }
        }
        for (Path j : sparkJars) {
            Path link = jars.resolve(j.getFileName().toString());
            if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, j.toAbsolutePath());
            }
        }
        try (InputStream in = StandaloneCluster.class.getResourceAsStream("log4j2.properties")) {
            AtomicFiles.write(conf.resolve("log4j2.properties"), in.readAllBytes());
        }
        AtomicFiles.writeString(conf.resolve("spark-defaults.conf"), """
                # written by aiwae cluster start: the master's REST submission port (6066) stays closed, and a port
                # that is taken fails the start instead of moving to the next one (the cluster's URL is fixed)
                spark.master.rest.enabled false
                spark.port.maxRetries 0
                """);
        for (int n = 1; n <= c.workers(); n++) {
            if (c.gpusPerWorker() > 0) {
                List<String> ids = new ArrayList<>();
                for (int g = 0; g < c.gpusPerWorker(); g++) {
                    ids.add("\"" + ((n - 1) * c.gpusPerWorker() + g) + "\"");
                }
                Path script = gpuScript(home, n);
                Files.writeString(script, "#!/bin/sh\n# worker-" + n + "'s GPUs for Spark (aiwae cluster start --gpus-per-worker "
                        + c.gpusPerWorker() + "): CUDA device ordinals\necho '{\"name\": \"gpu\", \"addresses\": [" + String.join(", ", ids)
                        + "]}'\n");
                Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
    }

    private static Path gpuScript(Path home, int n) {
        return home.resolve("conf").resolve("gpus-worker-" + n + ".sh");
    }

    /**
     * What the daemons add to the environment they inherit: where their Spark installation is, the loopback
     * address to bind and advertise, and the Scala version of the jars (2.13 of spark-core_2.13-4.2.0.jar),
     * which a worker's launcher asks for when it builds an executor's command.
     */
    private static Map<String, String> environment(Path home) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SPARK_HOME", home.toString());
        env.put("SPARK_CONF_DIR", home.resolve("conf").toString());
        String scala = null;
        try (var jars = Files.list(home.resolve("jars"))) {
            for (Path j : jars.toList()) {
                Matcher m = SCALA.matcher(j.getFileName().toString());
                scala = m.matches() ? m.group(1) : scala;
            }
        } catch (IOException e) {
            // the message below
        }
        if (scala == null) {
            throw new AiwaeException(home.resolve("jars") + " lacks Spark's spark-core jar; stop the cluster and start it again");
        }
        env.put("SPARK_SCALA_VERSION", scala);
        env.put("SPARK_LOCAL_IP", HOST);
        env.put("SPARK_PUBLIC_DNS", HOST);
        return env;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new AiwaeException("no free port on " + HOST + ": " + e.getMessage());
        }
    }

    /** The last lines of a log, joined with " | " (one line for an error message). */
    static String lastLines(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()
                    && !l.startsWith("WARNING:")).toList();
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException e) {
            return "(" + log + " unreadable: " + e.getMessage() + ")";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AiwaeException("interrupted");
        }
    }
}
