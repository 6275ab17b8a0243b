package org.aiwae.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.aiwae.AiwaeException;
import org.aiwae.cli.TaskRunner;
import org.aiwae.cluster.Classpaths;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.TaskFailedReason;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.scheduler.TaskInfo;

/**
 * {@link TaskRunner} on Apache Spark: each {@link TaskRunner.Task} is a Spark job of one task, so that
 * a task that fails for good fails only itself. The task's work runs in the executor's JVM; an exception
 * fails the attempt, and Spark retries it up to {@code spark.task.maxFailures} times. Plain {@code local[N]} does not
 * retry, so it becomes {@code local[N,4]} here (a cluster's default is 4 attempts too).
 *
 * <p>On a cluster (any master but {@code local}) the executors get the application's jars from the
 * driver ({@code spark.jars}, from {@link Classpaths#application}, unless spark-submit set it) and
 * compute on {@code spark.task.cpus} threads per task ({@code spark.executor.defaultJavaOptions}).
 */
public final class SparkTaskRunner implements TaskRunner, TaskRunner.Factory {
    private static final Pattern LOCAL = Pattern.compile("local(\\[(\\d+|\\*)])?");
    static final int ATTEMPTS = 4;
    /** The local property that names a job's task for the progress lines. */
    private static final String TASK = "aiwae.task";

    private final JavaSparkContext sc;
    private final Progress progress;

    /** The {@link java.util.ServiceLoader} entry: a factory. */
    public SparkTaskRunner() {
        this.sc = null;
        this.progress = null;
    }

    private SparkTaskRunner(JavaSparkContext sc) {
        this.sc = sc;
        this.progress = new Progress();
        sc.sc().addSparkListener(progress);
    }

    @Override
    public TaskRunner open(String master, String appName, Map<String, String> settings) {
        SparkConf conf = new SparkConf().setAppName(appName).set("spark.ui.showConsoleProgress", "false");
        settings.forEach(conf::set);
        if (master != null) {
            conf.setMaster(withRetries(master));
        }
        if (conf.get("spark.master", "").startsWith("local")) {
            conf.setIfMissing("spark.ui.enabled", "false");
        } else {
            if (!conf.contains("spark.jars")) {
                conf.set("spark.jars", Classpaths.application().stream().map(Path::toString).collect(Collectors.joining(",")));
            }
            conf.setIfMissing("spark.executor.defaultJavaOptions", "-Daiwae.threads=" + conf.get("spark.task.cpus", "1"));
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
    public List<Outcome> run(List<Task> tasks) {
        progress.start(tasks.size());
        List<JavaFutureAction<List<String>>> jobs = new ArrayList<>();
        try {
            for (Task t : tasks) {
                sc.setLocalProperty(TASK, t.name());
                jobs.add(sc.parallelize(List.of(t), 1).map(SparkTaskRunner::execute).collectAsync());
            }
        } finally {
            sc.setLocalProperty(TASK, null);
        }
        Outcome[] out = new Outcome[tasks.size()];
        for (int left = tasks.size(); left > 0; ) {
            for (int i = 0; i < out.length; i++) {
                if (out[i] == null && jobs.get(i).isDone()) {
                    out[i] = outcome(jobs.get(i));
                    left--;
                    if (out[i] instanceof Outcome.Failed f) {
                        System.err.println("aiwae: " + tasks.get(i).name() + " FAILED: " + f.reason());
                    }
                }
            }
            if (left > 0) {
                sleep(100);
            }
        }
        progress.awaitReported(tasks.stream().map(Task::name).toList(), out);
        return List.of(out);
    }

    private static Outcome outcome(JavaFutureAction<List<String>> job) {
        try {
            return new Outcome.Done(job.get().get(0));
        } catch (ExecutionException e) {
            Throwable root = e.getCause() == null ? e : e.getCause();
            return new Outcome.Failed(reason(String.valueOf(root.getMessage())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AiwaeException("interrupted while waiting for the cluster");
        }
    }

    /** One line of a Spark failure message: from our task's own message where there is one, else its first line. */
    static String reason(String message) {
        int at = message.indexOf("aiwae task ");
        if (at >= 0) {
            String line = message.substring(at).lines().findFirst().orElse("");
            int colon = line.indexOf(": ");
            return colon >= 0 ? line.substring(colon + 2) : line;
        }
        return message.lines().findFirst().orElse(message);
    }

    /** Runs one task in this executor, on the first GPU Spark gave it if any. */
    static String execute(Task t) throws Exception {
        TaskContext tc = TaskContext.get();
        ResourceInformation gpus = tc == null ? null : tc.resourcesJMap().get("gpu");
        return t.work().run(gpus == null || gpus.addresses().length == 0 ? null : gpus.addresses()[0]);
    }

    /**
     * The driver's progress lines: each task's attempts as they start (with the executor's host) and end,
     * done or failed with the reason. Spark calls it on its listener thread.
     */
    private static final class Progress extends SparkListener {
        private final Map<Integer, String> stageTask = new ConcurrentHashMap<>();
        private final Set<String> reported = ConcurrentHashMap.newKeySet();
        private final AtomicInteger done = new AtomicInteger();
        private volatile int total;

        void start(int tasks) {
            total = tasks;
            done.set(0);
            reported.clear();
        }

        @Override
        public void onStageSubmitted(SparkListenerStageSubmitted e) {
            String name = e.properties() == null ? null : e.properties().getProperty(TASK);
            if (name != null) {
                stageTask.put(e.stageInfo().stageId(), name);
            }
        }

        @Override
        public void onTaskStart(SparkListenerTaskStart e) {
            String name = stageTask.get(e.stageId());
            TaskInfo ti = e.taskInfo();
            if (name != null) {
                System.err.println("aiwae: " + name + " running on " + where(ti)
                        + (ti.attemptNumber() > 0 ? ", attempt " + (ti.attemptNumber() + 1) : ""));
            }
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd e) {
            String name = stageTask.get(e.stageId());
            TaskInfo ti = e.taskInfo();
            if (name == null) {
                return;
            }
            if (ti.successful()) {
                System.err.printf("aiwae: %s done on %s in %.1f s (%d of %d)%n", name, where(ti), ti.duration() / 1e3,
                        done.incrementAndGet(), total);
                reported.add(name);
            } else {
                String why = e.reason() instanceof TaskFailedReason f ? reason(f.toErrorString()) : String.valueOf(e.reason());
                System.err.println("aiwae: " + name + " attempt " + (ti.attemptNumber() + 1) + " failed on " + where(ti) + ": " + why);
            }
        }

        private static String where(TaskInfo ti) {
            return ti.host() + " (executor " + ti.executorId() + ")";
        }

        /** Waits a moment for the "done" lines of the tasks that succeeded, which Spark may deliver after their results. */
        void awaitReported(List<String> names, Outcome[] outcomes) {
            long end = System.nanoTime() + 5_000_000_000L;
            for (int i = 0; i < names.size(); i++) {
                while (outcomes[i] instanceof Outcome.Done && !reported.contains(names.get(i)) && System.nanoTime() < end) {
                    sleep(20);
                }
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AiwaeException("interrupted while waiting for the cluster");
        }
    }

    @Override
    public void close() {
        if (sc != null) {
            sc.close();
        }
    }
}
