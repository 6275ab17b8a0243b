package org.aiwae.cli;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.aiwae.AiwaeException;

/**
 * Runs tasks in parallel on a cluster (a grid's cells as {@code aiwae} command lines, an evaluation's image
 * ranges): the seam between the application and Apache Spark. The implementation ({@code org.aiwae.spark}) is found with {@link ServiceLoader} only when a
 * command is given {@code --master}, so {@code train}, {@code eval} and the rest never load Spark's jars.
 */
public interface TaskRunner extends AutoCloseable {
    /** One task: {@code work}, run in one executor; the task fails (and the cluster retries it) when it throws. */
    record Task(String name, Work work) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** What a task does, sent to an executor and run there. */
    interface Work extends Serializable {
        /**
         * Does the work and returns the task's result (null: none); {@code gpu} is the address of the GPU the cluster
         * gave the task ({@code spark.task.resource.gpu.amount}), null when none.
         */
        String run(String gpu) throws Exception;
    }

    /** What became of a task once the cluster gave up retrying it or it succeeded. */
    sealed interface Outcome {
        /** It succeeded: the text of its result file (null: none). */
        record Done(String result) implements Outcome {}

        /** Every attempt failed; {@code reason} is one line: the failing command and its last error line, or the cluster's reason. */
        record Failed(String reason) implements Outcome {}
    }

    /** Opens a runner on a cluster; implementations have a public no-argument constructor. */
    interface Factory {
        /**
         * @param master   a Spark master URL: {@code local[N]}, {@code local[N,F]}, {@code spark://...}, {@code k8s://...}, ...
         * @param appName  the application's name in the cluster's UI
         * @param settings Spark settings ({@code spark.*}, as spark-submit's {@code --conf}), applied before the defaults
         */
        TaskRunner open(String master, String appName, Map<String, String> settings);
    }

    /** How many tasks run at once (e.g. N of {@code local[N]}): the default number of shards. */
    int parallelism();

    /**
     * Runs the tasks at once as far as the cluster allows, retrying failed attempts, and reports each one's
     * progress on stderr; returns their outcomes in task order. One task failing for good fails only that task.
     */
    List<Outcome> run(List<Task> tasks);

    @Override
    void close();

    /** The runner for {@code master}, or one line naming --master: Spark is not on the classpath or did not start. */
    static TaskRunner open(String master, String appName, Map<String, String> settings) {
        try {
            for (Factory f : ServiceLoader.load(Factory.class, TaskRunner.class.getClassLoader())) {
                return f.open(master, appName, settings);
            }
        } catch (AiwaeException e) {
            throw new AiwaeException("--master: " + e.getMessage(), e);
        } catch (ServiceConfigurationError | NoClassDefFoundError e) {
            // Spark's jars are missing: the message below
        }
        throw new AiwaeException("--master needs Apache Spark's jars on the classpath; run through bin/aiwae (which adds them "
                + "for --master and grid) or spark-submit");
    }
}
