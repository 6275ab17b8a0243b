package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.aiwae.train.CheckpointFiles;
import org.aiwae.train.InjectedFaults;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --resume} on run folders whose history does not match the request: a lost {@code LATEST}
 * after published epochs is refused (never a silent start from epoch 0) and {@code --resume-from-last-good}
 * continues from the newest intact checkpoint to the bytes of an uninterrupted run; a shorter
 * {@code --epochs} than the run has finished is refused without touching {@code config.json}.
 */
class ResumeCliTest {
    @TempDir
    static Path shared;
    /** A finished 3-epoch run, never modified; each test works on a copy. */
    static Path reference;

    @TempDir
    Path dir;

    static final List<String> TRAIN = List.of("train", "--method", "iwae", "--samples", "2", "--latent", "3", "--hidden", "8",
            "--train-limit", "60", "--eval-samples", "2", "--eval-images", "10");

    static List<String> train(Path out, String... extra) {
        List<String> a = new ArrayList<>(TRAIN);
        a.addAll(List.of("--out", out.toString()));
        a.addAll(List.of(extra));
        return a;
    }

    @BeforeAll
    static void trainThreeEpochs() {
        reference = shared.resolve("reference");
        CliRun o = CliRun.of(train(reference, "--epochs", "3"));
        assertEquals(0, o.status(), o.err());
    }

    /** Every file's bytes by relative path; {@code timings.jsonl} (wall-clock times), {@code lock} and the figure left out. */
    static Map<String, String> reproducible(Path root) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String name = root.relativize(p).toString();
                if (!List.of("timings.jsonl", "lock", "curves.png").contains(name)) {
                    m.put(name, java.util.HexFormat.of().formatHex(Files.readAllBytes(p)));
                }
            }
        }
        return m;
    }

    static Map<String, byte[]> everything(Path root) throws Exception {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                m.put(root.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return m;
    }

    static void assertUnchanged(Map<String, byte[]> before, Path root) throws Exception {
        Map<String, byte[]> after = everything(root);
        assertEquals(before.keySet(), after.keySet(), "the same files in " + root);
        before.forEach((k, v) -> assertArrayEquals(v, after.get(k), k + " changed"));
    }

    static void refusedInOneLine(CliRun o, String... expected) {
        assertEquals(2, o.status(), o.err());
        assertEquals(1, o.err().strip().lines().count(), o.err());
        assertTrue(o.err().startsWith("aiwae: "), o.err());
        for (String e : expected) {
            assertTrue(o.err().contains(e), "'" + e + "' not in " + o.err());
        }
    }

    @Test
    void aLostLatestIsRefusedAndResumeFromLastGoodContinuesToTheSameBytes() throws Exception {
        Path run = CheckpointFiles.copy(reference, dir.resolve("lost"));
        // a 3-epoch run stopped after epoch 2 (in a JVM of its own, whose fault injector fails it there), then its pointer is lost
        Path twoEpochs = dir.resolve("two"), log = dir.resolve("stopped.log");
        int stopped = SparkJvm.run(train(twoEpochs, "--epochs", "3"), log, Map.of(),
                List.of(InjectedFaults.option(InjectedFaults.failAfterEpoch(2, twoEpochs.getFileName().toString()))));
        String stoppedErr = Files.readString(log);
        assertTrue(stopped != 0 && stoppedErr.contains("injected failure after epoch 2"), stoppedErr);
        assertEquals("epoch-0002\n", Files.readString(twoEpochs.resolve("LATEST")));
        Files.delete(twoEpochs.resolve("LATEST"));
        Files.delete(twoEpochs.resolve(InjectedFaults.FAILED));
        Map<String, byte[]> before = everything(twoEpochs);
        CliRun refused = CliRun.of(train(twoEpochs, "--epochs", "3", "--resume"));
        refusedInOneLine(refused, twoEpochs.resolve("LATEST") + " is missing", "checkpoints/epoch-0002", "--resume-from-last-good");
        assertUnchanged(before, twoEpochs);
        CliRun eval = CliRun.of("eval", "--checkpoint", twoEpochs.toString(), "--limit", "1");
        refusedInOneLine(eval, "LATEST is missing", "train --resume-from-last-good --out " + twoEpochs);
        assertUnchanged(before, twoEpochs);

        CliRun healed = CliRun.of(train(twoEpochs, "--epochs", "3", "--resume-from-last-good"));
        assertEquals(0, healed.status(), healed.err());
        assertTrue(healed.err().contains("continuing from " + twoEpochs.resolve("checkpoints/epoch-0002")), healed.err());
        assertEquals(reproducible(reference), reproducible(twoEpochs), "the healed run ends where the uninterrupted one did");

        // a corrupt pointer: the same refusal and the same way out
        Files.writeString(run.resolve("LATEST"), "epoch-00x3\n");
        refusedInOneLine(CliRun.of(train(run, "--resume")), "LATEST is corrupt", "--resume-from-last-good");
        assertEquals(0, CliRun.of(train(run, "--resume-from-last-good")).status());
        assertEquals("epoch-0003\n", Files.readString(run.resolve("LATEST")));
        assertEquals(reproducible(reference), reproducible(run));
    }

    /** Flips one bit in the middle of {@code f} (inside the weights of a safetensors file). */
    static void flipBit(Path f) throws Exception {
        byte[] b = Files.readAllBytes(f);
        b[b.length / 2 + 3] ^= 0x10;
        Files.write(f, b);
    }

    @Test
    void aDamagedCheckpointIsRefusedAndResumeFromLastGoodRetrainsItToTheSameBytes() throws Exception {
        Path run = CheckpointFiles.copy(reference, dir.resolve("flipped"));
        Path model = run.resolve("checkpoints/epoch-0003/model.safetensors");
        flipBit(model);
        Map<String, byte[]> before = everything(run);
        for (List<String> command : List.of(train(run, "--resume"), List.of("eval", "--checkpoint", run.toString(), "--limit", "1"),
                List.of("samples", "--checkpoint", run.toString(), "--out", dir.resolve("s.png").toString()))) {
            CliRun o = CliRun.of(command);
            refusedInOneLine(o, model + " is damaged: its SHA-256 differs from the one in SHA256SUMS", "--resume-from-last-good");
            assertUnchanged(before, run);
        }
        CliRun healed = CliRun.of(train(run, "--resume-from-last-good"));
        assertEquals(0, healed.status(), healed.err());
        assertTrue(healed.err().contains(model + " is damaged") && healed.err().contains("continuing from "
                + run.resolve("checkpoints/epoch-0002") + ", the newest intact checkpoint (epoch 2)"), healed.err());
        assertEquals(reproducible(reference), reproducible(run), "epoch 3 retrained from epoch 2: the same bytes");

        // every checkpoint damaged: from the initial weights, again to the same bytes
        flipBit(run.resolve("checkpoints/epoch-0003/train-state.safetensors"));
        Files.writeString(run.resolve("checkpoints/epoch-0002/SHA256SUMS"), "not a sums file\n");
        refusedInOneLine(CliRun.of(train(run, "--resume")), "train-state.safetensors is damaged");
        CliRun restarted = CliRun.of(train(run, "--resume-from-last-good"));
        assertEquals(0, restarted.status(), restarted.err());
        assertTrue(restarted.err().contains("epoch-0002/SHA256SUMS is corrupt: line 1") && restarted.err().contains(
                "no intact checkpoint in " + run.resolve("checkpoints") + "; starting from the initial weights"), restarted.err());
        assertEquals(reproducible(reference), reproducible(run));
    }

    @Test
    void aCheckpointOfAnOlderVersionWithoutSumsIsReadWithAWarning() throws Exception {
        Path run = CheckpointFiles.copy(reference, dir.resolve("old"));
        Files.delete(run.resolve("checkpoints/epoch-0003/SHA256SUMS"));
        CliRun eval = CliRun.of("eval", "--checkpoint", run.toString(), "--limit", "1", "--nll-chains", "1", "--nll-temperatures",
                "2", "--nvlb-samples", "2");
        assertEquals(0, eval.status(), eval.err());
        assertTrue(eval.err().startsWith("aiwae: warning: " + run.resolve("checkpoints/epoch-0003") + " has no SHA256SUMS"), eval.err());
        CliRun resumed = CliRun.of(train(run, "--resume", "--epochs", "4"));
        assertEquals(0, resumed.status(), resumed.err());
        assertTrue(resumed.err().contains("has no SHA256SUMS (written by an older version)"), resumed.err());
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/epoch-0004/SHA256SUMS")), "new checkpoints get their sums");
    }

    @Test
    void aRunIsNeverShortened() throws Exception {
        Path run = CheckpointFiles.copy(reference, dir.resolve("short"));
        Map<String, byte[]> before = everything(run);
        CliRun o = CliRun.of(train(run, "--resume", "--epochs", "2"));
        refusedInOneLine(o, run + " has finished 3 epochs", "--epochs 3 or more");
        assertUnchanged(before, run);
        CliRun same = CliRun.of(train(run, "--resume", "--epochs", "3"));
        assertEquals(0, same.status(), same.err());
        assertTrue(same.err().contains("already holds 3 epochs; nothing to do"), same.err());
        assertEquals(reproducible(reference), reproducible(run));
    }
}
