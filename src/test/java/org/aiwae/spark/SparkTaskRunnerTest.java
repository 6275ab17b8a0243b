package org.aiwae.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The pieces of {@link SparkTaskRunner} that need no cluster: masters, failure lines. */
class SparkTaskRunnerTest {
    @Test
    void localMastersRetryAndFailureLinesComeFromTheTask() {
        assertEquals("local[2,4]", SparkTaskRunner.withRetries("local[2]"));
        assertEquals("local[1,4]", SparkTaskRunner.withRetries("local"));
        assertEquals("local[2,1]", SparkTaskRunner.withRetries("local[2,1]"));
        assertEquals("spark://h:7077", SparkTaskRunner.withRetries("spark://h:7077"));
        assertEquals("train exited with status 2: aiwae: --backend cuda:1: CUDA: no device 1",
                SparkTaskRunner.reason("Job aborted due to stage failure: Task 0 in stage 3.0 failed 4 times, most recent failure: Lost task "
                        + "0.3 (TID 9) (127.0.0.1 executor 1): java.lang.IllegalStateException: aiwae task m/seed-3: train exited with "
                        + "status 2: aiwae: --backend cuda:1: CUDA: no device 1\n\tat org.aiwae.spark.SparkTaskRunner.execute"));
        assertEquals("ExecutorLostFailure (executor 1 exited)", SparkTaskRunner.reason("ExecutorLostFailure (executor 1 exited)\nReason: x"));
    }
}
