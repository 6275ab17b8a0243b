package org.aiwae.cli;

import java.io.Serializable;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.aiwae.AiwaeException;

/**
 * Runs {@code aiwae} command lines as parallel tasks on a cluster: the seam between the CLI and Apache
 * Spark. The implementation ({@code org.aiwae.spark}) is found with {@link ServiceLoader} only when a
 * command is given {@code --master}, so {@code train}, {@code eval} and the rest never load Spark's jars.
 */
public interface TaskRunner extends AutoCloseable {
    /**
     * One task: {@code commands} (each an {@code aiwae} argument list) run in order in one executor;
     * the task fails (and the cluster retries it) when one exits with a non-zero status. Its result is
     * the text of {@code resultFile} afterwards (null: no result).
     */
    record Task(String name, List<List<String>> commands, String resultFile) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Opens a runner on a cluster; implementations have a public no-argument constructor. */
    interface Factory {
        /**
         * @param master  a Spark master URL: {@code local[N]}, {@code local[N,F]}, {@code spark://...}, {@code k8s://...}, ...
         * @param appName the application's name in the cluster's UI
         */
        TaskRunner open(String master, String appName);
    }

    /** How many tasks run at once (e.g. N of {@code local[N]}): the default number of shards. */
    int parallelism();

    /** Runs the tasks, each once successfully (retrying failed attempts); their results in task order. */
    List<String> run(List<Task> tasks);

    @Override
    void close();

    /** The runner for {@code master}, or one line naming --master: Spark is not on the classpath or did not start. */
    static TaskRunner open(String master, String appName) {
        try {
            for (Factory f : ServiceLoader.load(Factory.class, TaskRunner.class.getClassLoader())) {
                return f.open(master, appName);
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
