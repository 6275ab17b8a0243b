package org.aiwae.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.aiwae.AiwaeException;
import org.aiwae.io.Json;
import org.aiwae.train.TrainConfig;

/**
 * Fuzzes the JSON readers (Jackson with the project's bounds): config.json as a TrainConfig,
 * eval.json as an EvalReport and a free-form tree (safetensors headers). Any bytes either parse or
 * fail with one AiwaeException line naming the file; never another exception, a stack overflow
 * or an OutOfMemoryError.
 */
class JsonFuzzTest {
    private static final Class<?> EVAL_REPORT;

    static {
        try {
            EVAL_REPORT = Class.forName("org.aiwae.cli.EvalReport"); // package-private: eval.json's record
        } catch (ClassNotFoundException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "10s")
    void parse(byte[] data) {
        try {
            Json.tree(data, "fuzz.json");
        } catch (AiwaeException e) {
            Reported.check(e, "fuzz.json");
        }
        try {
            TrainConfig c = Json.read(data, TrainConfig.class, "fuzz-config.json", false);
            // what parses is a valid configuration, and survives a write/read round trip
            if (!Json.read(Json.bytes(c), TrainConfig.class, "again", false).equals(c)) {
                throw new AssertionError("config round trip changed " + Json.write(c));
            }
        } catch (AiwaeException e) {
            Reported.check(e, "fuzz-config.json");
        }
        try {
            Json.read(data, EVAL_REPORT, "fuzz-eval.json", true);
        } catch (AiwaeException e) {
            Reported.check(e, "fuzz-eval.json");
        }
    }
}
