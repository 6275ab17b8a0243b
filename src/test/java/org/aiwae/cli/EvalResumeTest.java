package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resumable evaluation: killed with SIGKILL in a fresh JVM and resumed, it writes the same eval.json
 * bytes as an uninterrupted run; a subset of the images gets the same per-image results as the full
 * run; an existing evaluation is never overwritten without --resume or --force.
 */
class EvalResumeTest {
    @TempDir
    static Path dir;
    static Path run;

    /** A tiny protocol: seconds per run, with several batches to kill between. */
    private static final List<String> PROTOCOL = List.of("--nll-chains", "2", "--nll-temperatures", "60", "--nll-leapfrog", "2",
            "--nvlb-samples", "10");

    @BeforeAll
    static void train() {
        run = dir.resolve("run");
        CliRun o = CliRun.of(List.of("train", "--method", "iwae", "--samples", "2", "--latent", "4", "--hidden", "16",
                "--train-limit", "100", "--epochs", "1", "--out", run.toString(), "--eval-samples", "5"));
        assertEquals(0, o.status(), o.err());
    }

    private static List<String> eval(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("eval", "--checkpoint", run.toString(), "--out", out.toString()));
        for (int i = 0; i < PROTOCOL.size(); i += 2) { // a protocol flag in extra replaces the default
            if (!List.of(extra).contains(PROTOCOL.get(i))) {
                a.addAll(PROTOCOL.subList(i, i + 2));
            }
        }
        a.addAll(List.of(extra));
        return a;
    }

    /** {@code aiwae} in a fresh JVM with default JIT flags (the CPU backend gives the same bits in every tier). */
    private static ProcessBuilder jvm(List<String> args, Path log) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        if (Runtime.version().feature() >= 24) {
            cmd.add(1, "--sun-misc-unsafe-memory-access=allow");
        }
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        return pb;
    }

    private static void runJvm(List<String> args, String name) throws Exception {
        Path log = dir.resolve(name + ".log");
        Process p = jvm(args, log).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), name + " did not finish");
        assertEquals(0, p.exitValue(), name + ": " + Files.readString(log));
    }

    /** Image index to its line in a results file. */
    private static Map<Integer, String> lines(Path file) throws Exception {
        Map<Integer, String> m = new TreeMap<>();
        List<String> all = Files.readAllLines(file);
        for (String l : all.subList(1, all.size())) {
            m.put(Integer.parseInt(l.substring(l.indexOf(':') + 1, l.indexOf(','))), l);
        }
        return m;
    }

    @Test
    void killedAndResumedInFreshJvmsGivesTheUninterruptedBytes() throws Exception {
        Path full = dir.resolve("full"), killed = dir.resolve("killed"), subset = dir.resolve("subset");
        runJvm(eval(full, "--split", "both", "--limit", "5", "--batch", "1"), "full");

        Path log = dir.resolve("killed.log");
        Process p = jvm(eval(killed, "--split", "both", "--limit", "5", "--batch", "1"), log).start();
        Path results = killed.resolve("eval-test.jsonl");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && System.nanoTime() < deadline
                && (!Files.exists(results) || Files.readAllLines(results).size() < 3)) {
            Thread.sleep(5);
        }
        p.destroyForcibly(); // SIGKILL
        p.waitFor(30, TimeUnit.SECONDS);
        assertFalse(Files.exists(killed.resolve("eval.json")), "the evaluation finished before the kill: " + Files.readString(log));
        int done = Files.readAllLines(results).size() - 1;
        assertTrue(done >= 2 && done < 5, done + " test images done at the kill");
        // a kill inside a write leaves a torn last line: resume must drop it
        Files.writeString(results, "{\"image\":4,\"nl", StandardOpenOption.APPEND);

        runJvm(eval(killed, "--split", "both", "--limit", "5", "--batch", "1", "--resume"), "resumed");
        assertArrayEquals(Files.readAllBytes(full.resolve("eval.json")), Files.readAllBytes(killed.resolve("eval.json")),
                Files.readString(full.resolve("eval.json")) + "\nvs\n" + Files.readString(killed.resolve("eval.json")));
        assertEquals(lines(full.resolve("eval-test.jsonl")), lines(results));
        assertEquals(lines(full.resolve("eval-train.jsonl")), lines(killed.resolve("eval-train.jsonl")));

        // a subset in other batches gets the same per-image results, bit for bit
        runJvm(eval(subset, "--images", "1:4", "--batch", "2"), "subset");
        Map<Integer, String> some = lines(subset.resolve("eval-test.jsonl"));
        assertEquals(List.of(1, 2, 3), List.copyOf(some.keySet()));
        for (int i : some.keySet()) {
            assertEquals(lines(full.resolve("eval-test.jsonl")).get(i), some.get(i), "image " + i);
        }
    }

    @Test
    void anExistingEvaluationIsNeitherOverwrittenNorResumedWithOtherSettings() throws Exception {
        Path out = dir.resolve("refuse");
        assertEquals(0, CliRun.of(eval(out, "--limit", "2")).status());
        byte[] before = Files.readAllBytes(out.resolve("eval.json"));
        long modified = Files.getLastModifiedTime(out.resolve("eval.json")).toMillis();

        CliRun again = CliRun.of(eval(out, "--limit", "2"));
        assertEquals(2, again.status());
        assertTrue(again.err().startsWith("aiwae: ") && again.err().strip().lines().count() == 1, again.err());
        assertTrue(again.err().contains("already has an evaluation") && again.err().contains("--resume"), again.err());

        CliRun otherSeed = CliRun.of(eval(out, "--limit", "2", "--resume", "--seed", "1"));
        assertEquals(2, otherSeed.status());
        assertTrue(otherSeed.err().contains("a different seed: 0 (now 1)") && otherSeed.err().contains("pass --force to start over"),
                otherSeed.err());
        CliRun otherProtocol = CliRun.of(eval(out, "--limit", "2", "--resume", "--nvlb-samples", "11"));
        assertEquals(2, otherProtocol.status());
        assertTrue(otherProtocol.err().contains("a different protocol"), otherProtocol.err());
        CliRun both = CliRun.of(eval(out, "--limit", "2", "--resume", "--force"));
        assertEquals(2, both.status());
        assertArrayEquals(before, Files.readAllBytes(out.resolve("eval.json")));
        assertEquals(modified, Files.getLastModifiedTime(out.resolve("eval.json")).toMillis());

        // --resume with more images evaluates only the new ones; --force starts over
        CliRun more = CliRun.of(eval(out, "--limit", "3", "--resume"));
        assertEquals(0, more.status(), more.err());
        assertTrue(more.err().contains("2 of 3 images already in eval-test.jsonl"), more.err());
        assertEquals(3, lines(out.resolve("eval-test.jsonl")).size());
        CliRun force = CliRun.of(eval(out, "--limit", "1", "--force"));
        assertEquals(0, force.status(), force.err());
        assertEquals(1, lines(out.resolve("eval-test.jsonl")).size());

        CliRun badRange = CliRun.of(eval(dir.resolve("none"), "--images", "5:3"));
        assertEquals(2, badRange.status());
        assertTrue(badRange.err().contains("--images must be A:B"), badRange.err());
        CliRun beyond = CliRun.of(eval(dir.resolve("none"), "--images", "0:501"));
        assertEquals(2, beyond.status());
        assertTrue(beyond.err().contains("beyond the 500 test images"), beyond.err());
        assertFalse(Files.exists(dir.resolve("none")));
    }

    /**
     * {@code --force} (and {@code --resume}) while another process evaluates into the same folder: refused with
     * one line naming that process, its files untouched; once it is gone (killed: its lock is stale) --force starts over.
     */
    @Test
    void aRunningEvaluationKeepsItsFolder() throws Exception {
        Path out = dir.resolve("busy"), log = dir.resolve("busy.log");
        Process first = jvm(eval(out, "--limit", "3", "--nll-temperatures", "200000"), log).start();
        try {
            Path results = out.resolve("eval-test.jsonl");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (first.isAlive() && System.nanoTime() < deadline && (!Files.exists(results) || Files.size(results) == 0)) {
                Thread.sleep(20);
            }
            assertTrue(first.isAlive() && Files.size(results) > 0, "the first evaluation started: " + Files.readString(log));
            byte[] header = Files.readAllBytes(results);
            for (String flag : List.of("--force", "--resume")) {
                CliRun second = CliRun.of(eval(out, "--limit", "3", "--nll-temperatures", "100", flag));
                assertEquals(2, second.status(), second.err());
                assertEquals(1, second.err().strip().lines().count(), second.err());
                assertTrue(second.err().startsWith("aiwae: folder " + out + " is in use by process " + first.pid() + "@"), second.err());
                assertTrue(second.out().isEmpty(), second.out());
                assertArrayEquals(header, Files.readAllBytes(results), flag + " left the running evaluation's file alone");
                assertFalse(Files.exists(out.resolve("eval.json")));
            }
        } finally {
            first.destroyForcibly();
            first.waitFor(30, TimeUnit.SECONDS);
        }
        CliRun force = CliRun.of(eval(out, "--limit", "1", "--force"));
        assertEquals(0, force.status(), force.err());
        assertEquals(1, lines(out.resolve("eval-test.jsonl")).size());
        assertTrue(Files.readString(out.resolve("eval.json")).contains("\"nll_temperatures\":60"), "the --force run's protocol");
    }

    @Test
    void noEvaluationIsWrittenIntoTheCheckpointFolderWhenOutIsGiven() throws Exception {
        Path out = dir.resolve("elsewhere").resolve("nested");
        assertEquals(0, CliRun.of(eval(out, "--limit", "1")).status());
        assertTrue(Files.isRegularFile(out.resolve("eval.json")));
        assertFalse(Files.exists(run.resolve("eval.json")));
        assertTrue(new File(out.toFile(), "eval-test.jsonl").isFile());
    }
}
