package org.aiwae.spark;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.aiwae.AiwaeException;
import org.aiwae.cli.Main;
import org.aiwae.cli.TaskRunner;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@link TaskRunner} on Apache Spark: one Spark task per {@link TaskRunner.Task}, in a partition of
 * its own. The task runs its {@code aiwae} commands in the executor's JVM ({@link Main#run}); a
 * non-zero status fails the attempt, and Spark retries it up to {@code spark.task.maxFailures}
 * times. Plain {@code local[N]} does not retry, so it becomes {@code local[N,4]} here (a cluster's
 * default is 4 attempts too).
 */
public final class SparkTaskRunner implements TaskRunner, TaskRunner.Factory {
    private static final Pattern LOCAL = Pattern.compile("local(\\[(\\d+|\\*)])?");
    static final int ATTEMPTS = 4;

    private final JavaSparkContext sc;

    /** The {@link java.util.ServiceLoader} entry: a factory. */
    public SparkTaskRunner() {
        this.sc = null;
    }

    private SparkTaskRunner(JavaSparkContext sc) {
        this.sc = sc;
    }

    @Override
    public TaskRunner open(String master, String appName) {
        SparkConf conf = new SparkConf().setAppName(appName).set("spark.ui.showConsoleProgress", "false");
        if (master != null) {
            conf.setMaster(withRetries(master));
        }
        if (conf.get("spark.master", "").startsWith("local")) {
            conf.setIfMissing("spark.ui.enabled", "false");
        }
        try {
            return new SparkTaskRunner(new JavaSparkContext(conf));
        } catch (RuntimeException e) {
            throw new AiwaeException("Spark did not start with master '" + master + "': " + e.getMessage());
        }
    }

    /** {@code local} and {@code local[N]} with {@value #ATTEMPTS} attempts per task; other masters as given. */
    static String withRetries(String master) {
        Matcher m = LOCAL.matcher(master.trim());
        if (!m.matches()) {
            return master;
        }
        return "local[" + (m.group(2) == null ? "1" : m.group(2)) + "," + ATTEMPTS + "]";
    }

    @Override
    public int parallelism() {
        return sc.defaultParallelism();
    }

    @Override
    public List<String> run(List<Task> tasks) {
        if (tasks.isEmpty()) {
            return List.of();
        }
        try {
            return sc.parallelize(tasks, tasks.size()).map(SparkTaskRunner::execute).collect();
        } catch (Exception e) { // SparkException is checked but undeclared (Scala)
            Throwable root = e;
            while (root.getCause() != null && !(root instanceof SparkException)) {
                root = root.getCause();
            }
            String m = String.valueOf(root.getMessage());
            int at = m.indexOf("aiwae task ");
            throw new AiwaeException("the Spark job failed: " + (at >= 0 ? m.substring(at).lines().findFirst().orElse(m)
                    : m.lines().findFirst().orElse(m)));
        }
    }

    /** Runs one task in this executor; a command's non-zero status fails the attempt. */
    static String execute(Task t) throws IOException {
        for (List<String> command : t.commands()) {
            int status = Main.run(command.toArray(String[]::new));
            if (status != 0) {
                throw new IllegalStateException("aiwae task " + t.name() + ": 'aiwae " + String.join(" ", command)
                        + "' exited with status " + status + " (its message is in the executor's log)");
            }
        }
        return t.resultFile() == null ? null : Files.readString(Path.of(t.resultFile()), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        if (sc != null) {
            sc.close();
        }
    }
}
