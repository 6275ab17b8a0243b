package org.aiwae.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.aiwae.AiwaeException;
import org.aiwae.cluster.Classpaths;
import org.aiwae.cluster.StandaloneCluster;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code aiwae cluster start | stop | status}: a Spark standalone cluster on this machine
 * ({@link StandaloneCluster}), to run {@code grid} and {@code eval --master} the way they run on a
 * real cluster before there is one.
 */
@Command(name = "cluster", header = "a Spark standalone cluster on this machine (master and workers on 127.0.0.1)",
        description = {"Starts, stops and shows a Spark standalone cluster on this machine: a master and worker JVMs bound to "
                + "127.0.0.1, from the Spark jars of the build. Submit to it with grid/eval --master spark://127.0.0.1:PORT "
                + "(docs/cluster.md)."},
        subcommands = {ClusterCommand.Start.class, ClusterCommand.Stop.class, ClusterCommand.Status.class})
final class ClusterCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Without a subcommand: the list of them, and status 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(System.out);
        return 2;
    }

    /** {@code --dir}: the cluster's folder. A picocli mixin. */
    static final class DirOption {
        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "runs/cluster",
                description = "the cluster's folder (pid files, cluster.json, logs/, work/); default: ${DEFAULT-VALUE}")
        Path dir;
    }

    @Command(name = "start", header = "start a master and workers on 127.0.0.1 (again: restart the workers that are down)",
            description = {"Starts a Spark master and --workers worker JVMs bound to 127.0.0.1, waits until the workers have "
                    + "registered, and prints the master URL (on stdout) and the web UI. Logs go to DIR/logs, each executor's "
                    + "output to DIR/work/worker-N/APP/ID/stderr.",
                    "With the folder's cluster running, starts only the workers that are not (e.g. one that was killed)."})
    static final class Start implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        DirOption dir;

        @Option(names = "--workers", paramLabel = "N", defaultValue = "2", description = "worker JVMs; default: ${DEFAULT-VALUE}")
        int workers;

        @Option(names = "--cores", paramLabel = "C", defaultValue = "1",
                description = "cores each worker offers (tasks at once); default: ${DEFAULT-VALUE}")
        int cores;

        @Option(names = "--memory", paramLabel = "SIZE",
                description = "memory each worker offers to executors, e.g. 4g; default: Spark's (the machine's memory less 1 GiB)")
        String memory;

        @Option(names = "--gpus-per-worker", paramLabel = "G", defaultValue = "0",
                description = "GPUs each worker offers: worker N gets CUDA devices (N-1)*G .. N*G-1; default: ${DEFAULT-VALUE}")
        int gpus;

        @Option(names = "--port", paramLabel = "P", defaultValue = "0", description = "the master's port; default: a free one")
        int port;

        @Option(names = "--webui-port", paramLabel = "P", defaultValue = "0", description = "the master's web UI port; default: a free one")
        int webUiPort;

        @Option(names = "--event-log", paramLabel = "DIR",
                description = "a folder for Spark's event logs, and a history server that shows the applications logged there "
                        + "(submit with the two --conf settings start prints)")
        Path eventLog;

        @Option(names = "--timeout", paramLabel = "S", defaultValue = "120",
                description = "seconds to wait for the workers to register; default: ${DEFAULT-VALUE}")
        int timeout;

        @Override
        public Integer call() {
            Flags.between(spec, "--workers", workers, 1, 64, "");
            Flags.between(spec, "--cores", cores, 1, 4096, "");
            Flags.between(spec, "--gpus-per-worker", gpus, 0, 64, "");
            Flags.between(spec, "--port", port, 0, 65535, "");
            Flags.between(spec, "--webui-port", webUiPort, 0, 65535, "");
            Flags.atLeast(spec, "--timeout", timeout, 1);
            if (memory != null && !memory.matches("\\d+[kmgtKMGT]?")) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--memory must be a size like 512m or 4g, got '"
                        + memory + "'");
            }
            List<String> before = StandaloneCluster.running(dir.dir).stream().map(StandaloneCluster.Daemon::name).toList();
            StandaloneCluster c = StandaloneCluster.start(dir.dir, new StandaloneCluster.Config(workers, cores, memory, gpus, port, webUiPort, eventLog),
                    Classpaths::sparkInstallation, Duration.ofSeconds(timeout));
            StandaloneCluster.Info i = c.info();
            System.out.println(i.master());
            for (StandaloneCluster.Daemon d : StandaloneCluster.running(dir.dir)) {
                if (!before.contains(d.name())) {
                    System.err.println("aiwae: started " + d.name() + " (pid " + d.pid() + ")");
                }
            }
            System.err.println("aiwae: cluster " + i.master() + " up: " + i.workers() + " workers x " + i.cores() + (i.cores() == 1 ? " core" : " cores")
                    + (i.gpusPerWorker() > 0 ? " x " + i.gpusPerWorker() + " GPUs" : "") + "; web UI " + i.webUi()
                    + "; logs in " + c.dir().resolve("logs"));
            String events = i.eventLog() == null ? "" : " --conf spark.eventLog.enabled=true --conf spark.eventLog.dir=" + i.eventLog();
            if (i.historyUi() != null) {
                System.err.println("aiwae: history server " + i.historyUi() + " shows the applications logged to " + i.eventLog());
            }
            System.err.println("  submit: bin/aiwae grid GRID.json --master " + i.master() + " --runs RUNS" + events);
            System.err.println("  stop:   bin/aiwae cluster stop --dir " + dir.dir);
            return 0;
        }
    }

    @Command(name = "stop", header = "stop the cluster's master, workers and executors",
            description = "Stops the daemons this folder's cluster start started (SIGTERM, then SIGKILL after 15 s) and their "
                    + "executors; a pid file whose process is something else is removed, and that process left alone.")
    static final class Stop implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DirOption dir;

        @Override
        public Integer call() {
            List<String> lines = StandaloneCluster.stop(dir.dir);
            if (lines.isEmpty()) {
                System.err.println("aiwae: no cluster in " + dir.dir.toAbsolutePath());
            }
            for (String l : lines) {
                System.err.println("aiwae: " + l);
            }
            return 0;
        }
    }

    @Command(name = "status", header = "the cluster's master, workers and applications",
            description = "Prints the master URL, the web UI, each worker (state, cores in use, GPUs) and the running "
                    + "applications; exits with status 1 when the master is not running.")
    static final class Status implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DirOption dir;

        @Override
        public Integer call() {
            StandaloneCluster c = StandaloneCluster.open(dir.dir);
            if (c.daemon("master").isEmpty()) {
                System.err.println("aiwae: the cluster of " + c.dir() + " is not running (no live master)");
                return 1;
            }
            JsonNode s;
            try {
                s = c.masterState(Duration.ofSeconds(10));
            } catch (IOException e) {
                throw new AiwaeException("the master of " + c.dir() + " does not answer at " + c.info().webUi() + ": " + e.getMessage());
            }
            System.out.println("master " + s.path("url").asText() + " " + s.path("status").asText() + ", web UI " + c.info().webUi());
            if (c.info().historyUi() != null) {
                System.out.println("history server " + c.info().historyUi() + (c.daemon("history").isPresent() ? "" : " NOT RUNNING")
                        + ", event logs in " + c.info().eventLog());
            }
            for (JsonNode w : s.path("workers")) {
                if (!w.path("state").asText().equals("ALIVE")) {
                    continue; // the master remembers dead workers for a while
                }
                System.out.println("worker " + w.path("host").asText() + ":" + w.path("port").asInt() + " " + w.path("state").asText()
                        + ", cores " + w.path("coresused").asInt() + "/" + w.path("cores").asInt() + " in use"
                        + (w.path("resources").has("gpu") ? ", gpus " + w.path("resources").path("gpu").path("addresses") : "")
                        + ", web UI " + w.path("webuiaddress").asText());
            }
            for (JsonNode a : s.path("activeapps")) {
                System.out.println("application " + a.path("id").asText() + " '" + a.path("name").asText() + "' " + a.path("state").asText()
                        + ", " + a.path("cores").asInt() + " cores");
            }
            return 0;
        }
    }
}
