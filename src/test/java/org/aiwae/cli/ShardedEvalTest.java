package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.aiwae.eval.Evaluation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eval --master local[2] --shards 3}: three Spark tasks evaluate three image ranges and the
 * merged eval.json and eval-test.jsonl are byte for byte those of an unsharded evaluation (each in a
 * fresh JVM), although the shards batch the images differently.
 */
class ShardedEvalTest {
    @TempDir
    Path dir;

    private static final List<String> PROTOCOL = List.of("--nll-chains", "2", "--nll-temperatures", "30", "--nll-leapfrog", "2",
            "--nvlb-samples", "10", "--limit", "9", "--batch", "4");

    private List<String> eval(Path run, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("eval", "--checkpoint", run.toString(), "--out", out.toString()));
        a.addAll(PROTOCOL);
        a.addAll(List.of(extra));
        return a;
    }

    @Test
    void threeShardsOnSparkGiveTheUnshardedBytes() throws Exception {
        Path run = dir.resolve("run"), whole = dir.resolve("whole"), sharded = dir.resolve("sharded");
        assertEquals(0, Main.run(new String[] {"train", "--method", "iwae", "--samples", "2", "--latent", "4", "--hidden", "16",
                "--train-limit", "100", "--epochs", "1", "--out", run.toString(), "--eval-samples", "5"}));
        Path log = dir.resolve("log");
        assertEquals(0, SparkJvm.run(eval(run, whole), log, Map.of()), () -> read(log));
        assertEquals(0, SparkJvm.run(eval(run, sharded, "--master", "local[2]", "--shards", "3"), log, Map.of()), () -> read(log));
        String out = read(log);
        assertTrue(out.contains("9 images in 3 shards on Spark"), out);
        assertArrayEquals(Files.readAllBytes(whole.resolve("eval-test.jsonl")), Files.readAllBytes(sharded.resolve("eval-test.jsonl")));
        assertArrayEquals(Files.readAllBytes(whole.resolve("eval.json")), Files.readAllBytes(sharded.resolve("eval.json")));
        assertFalse(Files.exists(sharded.resolve(Evaluation.SHARDS)), "the shards' folders are removed once merged");
    }

    @Test
    void shardsWithoutMasterIsOneLine() {
        assertEquals(2, Main.run(new String[] {"eval", "--checkpoint", dir.toString(), "--shards", "3"}));
    }

    static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
