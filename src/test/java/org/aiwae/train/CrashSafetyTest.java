package org.aiwae.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.aiwae.AiwaeException;
import org.aiwae.cli.CliRun;
import org.aiwae.data.Datasets;
import org.aiwae.engine.backend.Backends;
import org.aiwae.io.AtomicFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety across processes: training runs in fresh JVMs ({@link CrashChild}) are killed at
 * every step of a checkpoint's publication and at random instants, resumed each time, and must
 * end byte-identical to an uninterrupted run in every file but {@code timings.jsonl}. The number
 * of random kills is {@code -Daiwae.soak.kills} (default 4; {@code scripts/crash-soak.sh} runs many).
 */
class CrashSafetyTest {
    /** A tiny AIWAE run (its HMC step sizes are objective state that must survive the kills). */
    static final TrainConfig CONFIG = new TrainConfig("embedded", Method.AIWAE, 2, 3, 2, 4, 16, 25, 8, TrainSchedule.SHORT, 50, 5, "cpu", 5, 10);
    private static final PrintStream QUIET = new PrintStream(java.io.OutputStream.nullOutputStream());
    /** One kill inside each step of publishing a checkpoint, spread over the epochs. */
    /**
     * One kill inside each step of publishing a checkpoint. A kill after the pointer moved lets the
     * resume go on with the next epoch, so the later steps are visited in later epochs.
     */
    private static final List<String> PLANNED = List.of("locked", "1/unit-model:partial", "1/unit-model:written",
            "1/unit-state:partial", "1/unit-state:written", "1/unit-metrics:partial", "1/unit-metrics:written", "1/unit-sums:partial", "1/unit-sums:written",
            "1/unit:renamed", "1/pointer:partial", "1/pointer:written", "1/pointer:renamed",
            "2/copy-model.safetensors:partial", "3/copy-model.safetensors:written", "4/copy-model.safetensors:renamed",
            "5/copy-metrics.jsonl:partial", "6/copy-metrics.jsonl:written", "7/copy-metrics.jsonl:renamed", "8/pruned");
    @TempDir
    Path dir;

    @Test
    void killedAtEveryStepAndAtRandomInstantsEndsByteIdenticalToAnUninterruptedRun() throws Exception {
        Path reference = dir.resolve("reference");
        long t0 = System.nanoTime();
        assertEquals(0, finish(start(reference, false, "", false)), "uninterrupted run");
        double seconds = (System.nanoTime() - t0) / 1e9;

        Path run = dir.resolve("killed");
        int kills = 0;
        for (String point : PLANNED) {
            int status = finish(start(run, Files.exists(run), point, false));
            assertEquals(137, status, "the run should have been stopped at " + point);
            kills++;
            assertReadable(run);
        }
        assertEquals(0, finish(start(run, true, "", false)), "the last resume completes the run");
        assertSameFiles(reference, run);

        // random instants, on a new folder; each time a run completes it is compared and started again
        Path random = dir.resolve("random");
        int planned = kills, randomKills = Integer.getInteger("aiwae.soak.kills", 4), completed = 0;
        Random rng = new Random(Long.getLong("aiwae.soak.seed", 1));
        for (int started = 0; kills < planned + randomKills && started < 3 * randomKills; started++) {
            Process p = start(random, Files.exists(random), "", false);
            if (!p.waitFor((long) (rng.nextDouble() * seconds * 1000), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                kills++;
                if (Files.exists(random.resolve(RunFolder.CONFIG))) {
                    assertReadable(random);
                }
            } else {
                assertEquals(0, p.exitValue(), "a run that was not killed succeeds");
                assertSameFiles(reference, random);
                AtomicFiles.deleteTree(random);
                completed++;
            }
        }
        if (Files.exists(random)) {
            assertEquals(0, finish(start(random, true, "", false)), "the last resume completes the run");
            assertSameFiles(reference, random);
            completed++;
        }
        System.out.println("CrashSafetyTest: " + kills + " kills (" + planned + " at publication steps, "
                + (kills - planned) + " at random instants); " + (1 + completed)
                + " resumed runs, each byte-identical to the uninterrupted run");
        assertTrue(kills > planned, "at least one kill at a random instant");
    }

    @Test
    void aRunKilledBeforeItsFirstEpochCanBeResumed() throws Exception {
        Path run = dir.resolve("early");
        assertEquals(137, finish(start(run, false, "locked", false)));
        assertTrue(Files.isRegularFile(run.resolve(RunFolder.CONFIG)));
        assertFalse(Files.exists(run.resolve(RunFolder.LATEST)));
        CliRun again = CliRun.of("train", "--out", run.toString());
        assertEquals(2, again.status());
        assertTrue(again.err().contains("pass --resume"), again.err());
        CliRun eval = CliRun.of("eval", "--checkpoint", run.toString());
        assertEquals(2, eval.status());
        assertTrue(eval.err().contains("no checkpoint yet") && eval.err().contains("train --resume --out " + run), eval.err());

        CliRun resumed = CliRun.of("train", "--resume", "--out", run.toString());
        assertEquals(0, resumed.status(), resumed.err());
        List<String> lines = Files.readAllLines(run.resolve(RunFolder.METRICS));
        assertEquals(CONFIG.epochs(), lines.size());
        assertTrue(lines.get(0).startsWith("{\"epoch\":1,"), lines.get(0));
        assertEquals(Checkpoints.unitName(CONFIG.epochs()), Files.readString(run.resolve(RunFolder.LATEST)).strip());
        assertEquals("", Files.readString(run.resolve(RunFolder.LOCK)), "the lock file is emptied at the end");
    }

    @Test
    void aSecondWriterIsRefusedWhileTheFirstRunsAndAStaleLockIsTakenOver() throws Exception {
        Path run = dir.resolve("locked");
        Process first = start(run, false, "2/unit:renamed", true);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(first.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("paused at 2/unit:renamed", r.readLine());
            String holder = Files.readString(run.resolve(RunFolder.LOCK)).strip();
            assertTrue(holder.startsWith(first.pid() + "@"), holder);
            Map<String, byte[]> before = files(run);

            AiwaeException e = assertThrows(AiwaeException.class,
                    () -> new Trainer(CONFIG, Datasets.embedded(), Backends.cpu(), run, true, QUIET).run());
            assertTrue(e.getMessage().contains("in use by process " + first.pid() + "@"), e.getMessage());
            CliRun cli = CliRun.of("train", "--resume", "--out", run.toString());
            assertEquals(2, cli.status());
            assertEquals(1, cli.err().strip().lines().count(), cli.err());
            assertTrue(cli.err().startsWith("aiwae: run folder " + run + " is in use by process " + first.pid()), cli.err());
            Map<String, byte[]> after = files(run);
            assertEquals(before.keySet(), after.keySet(), "the refused writer wrote nothing");
            before.forEach((k, v) -> assertArrayEquals(v, after.get(k), k));
        } finally {
            first.destroyForcibly();
            first.waitFor();
        }
        // the holder is dead: its pid is still in the lock file, and the next writer takes over
        assertTrue(Files.readString(run.resolve(RunFolder.LOCK)).startsWith(first.pid() + "@"));
        Trainer t = new Trainer(CONFIG, Datasets.embedded(), Backends.cpu(), run, true, QUIET);
        t.run();
        assertEquals(CONFIG.epochs(), t.epoch());
        assertEquals(Checkpoints.unitName(CONFIG.epochs()), Files.readString(run.resolve(RunFolder.LATEST)).strip());
    }

    /**
     * What a reader sees after a kill: a published checkpoint, complete and consistent, or none yet; and
     * a line of {@code timings.jsonl} for every published epoch (a kill right after {@code LATEST} moved keeps it).
     */
    private static void assertReadable(Path run) throws Exception {
        int latest = Checkpoints.latestEpoch(run);
        List<Integer> timed = timedEpochs(run);
        for (int e = 1; e <= latest; e++) {
            assertTrue(timed.contains(e), "timings.jsonl lacks published epoch " + e + ": " + timed);
        }
        if (latest == 0) {
            assertThrows(AiwaeException.class, () -> CheckpointReader.readModel(run));
            return;
        }
        Checkpoint s = CheckpointReader.readLatest(run);
        assertEquals(latest, s.epoch());
        assertEquals(null, s.firstNonFinite());
        assertEquals(latest, s.metrics().size(), "one metrics line per published epoch");
        assertEquals(latest, CheckpointReader.readModel(run).epoch());
    }

    /** The epochs of the lines of {@code timings.jsonl}, in file order (none when it does not exist). */
    private static List<Integer> timedEpochs(Path run) throws Exception {
        Path f = run.resolve(RunFolder.TIMINGS);
        List<Integer> epochs = new ArrayList<>();
        if (Files.exists(f)) {
            for (String line : Files.readAllLines(f)) {
                epochs.add(org.aiwae.io.Json.read(line.getBytes(StandardCharsets.UTF_8), EpochTiming.class, f.toString(), false).epoch());
            }
        }
        return epochs;
    }

    /** A finished run: the files of the uninterrupted run, and one timings line per epoch, in order. */
    private static void assertSameFiles(Path expected, Path actual) throws Exception {
        List<Integer> all = new ArrayList<>();
        for (int e = 1; e <= CONFIG.epochs(); e++) {
            all.add(e);
        }
        assertEquals(all, timedEpochs(actual), "one timings line per epoch");
        Map<String, byte[]> a = files(expected), b = files(actual);
        a.remove(RunFolder.TIMINGS);
        b.remove(RunFolder.TIMINGS);
        assertEquals(a.keySet(), b.keySet(), "the same files");
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k), b.get(k), k + " differs from the uninterrupted run's");
        }
    }

    private static Map<String, byte[]> files(Path root) throws Exception {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                m.put(root.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return m;
    }

    /** Starts {@link CrashChild} in a fresh JVM with this test's class path and the project's JVM flags. */
    private static Process start(Path out, boolean resume, String stop, boolean pause) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g"));
        if (Runtime.version().feature() >= 24) {
            cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), CrashChild.class.getName(), out.toString(),
                resume ? "resume" : "new", stop, pause ? "pause" : "halt"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
        if (!pause) {
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        }
        return pb.start();
    }

    private static int finish(Process p) throws Exception {
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("a training child did not finish in 5 minutes");
        }
        return p.exitValue();
    }
}
