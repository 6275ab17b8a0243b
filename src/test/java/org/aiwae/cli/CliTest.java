package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gives one line on stderr, a non-zero exit, and writes nothing. */
class CliTest {
    @TempDir
    Path dir;

    private record Outcome(int status, String err) {}

    private Outcome run(String... args) {
        PrintStream oldErr = System.err, oldOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err));
        System.setOut(new PrintStream(new ByteArrayOutputStream()));
        try {
            return new Outcome(Main.run(args), err.toString());
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
    }

    private void rejected(String expected, String... args) {
        Path out = dir.resolve("out");
        String[] full = new String[args.length + 2];
        System.arraycopy(args, 0, full, 0, args.length);
        full[args.length] = "--out";
        full[args.length + 1] = out.toString();
        Outcome o = run(full);
        assertEquals(2, o.status(), String.join(" ", args) + " -> " + o.err());
        assertTrue(o.err().startsWith("aiwae: ") && o.err().strip().lines().count() == 1, o.err());
        assertTrue(o.err().contains(expected), o.err());
        assertFalse(Files.exists(out), "nothing written for " + String.join(" ", args));
    }

    @Test
    void badTrainingInputs() {
        rejected("unknown dataset", "train", "--dataset", "cifar");
        rejected("unknown method", "train", "--method", "gan");
        rejected("--samples (K) must be at least 1", "train", "--samples", "0");
        rejected("--temperatures (T) must be at least 2", "train", "--temperatures", "1");
        rejected("--leapfrog (L) must be at least 1", "train", "--leapfrog", "0");
        rejected("larger than the 2000 training images", "train", "--batch-size", "5000");
        rejected("must be an integer", "train", "--samples", "five");
        rejected("unknown option --sample", "train", "--sample", "5");
        rejected("bin/aiwae data fetch mnist", "train", "--dataset", "mnist", "--data-dir", dir.resolve("empty").toString());
        rejected("unknown backend", "train", "--backend", "tpu");
        rejected("--epochs must be at least 1", "train", "--epochs", "0");
    }

    @Test
    void existingOutputFolderNeedsResume() throws Exception {
        Path out = dir.resolve("exists");
        Files.createDirectories(out);
        Outcome o = run("train", "--out", out.toString(), "--epochs", "1");
        assertEquals(2, o.status());
        assertTrue(o.err().contains("already exists; pass --resume"), o.err());
        try (var s = Files.list(out)) {
            assertEquals(0, s.count());
        }
        Outcome r = run("train", "--resume", "--out", out.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("not a training run folder"), r.err());
    }

    @Test
    void trainsFromTheCommandLineAndResumes() throws Exception {
        Path out = dir.resolve("run");
        Outcome o = run("train", "--method", "iwae", "--samples", "2", "--latent", "4", "--hidden", "16",
                "--train-limit", "100", "--epochs", "1", "--out", out.toString(), "--eval-samples", "5");
        assertEquals(0, o.status(), o.err());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
        assertEquals(1, Files.readAllLines(out.resolve("metrics.jsonl")).size());
        Outcome bad = run("train", "--resume", "--out", out.toString(), "--samples", "3");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("only --epochs"), bad.err());
        Outcome more = run("train", "--resume", "--out", out.toString(), "--epochs", "2");
        assertEquals(0, more.status(), more.err());
        assertEquals(2, Files.readAllLines(out.resolve("metrics.jsonl")).size());

        Outcome ev = run("eval", "--checkpoint", out.toString(), "--split", "both", "--limit", "6", "--nll-chains", "2",
                "--nll-temperatures", "5", "--nll-leapfrog", "2", "--nvlb-samples", "20");
        assertEquals(0, ev.status(), ev.err());
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> report = (java.util.Map<String, Object>) org.aiwae.io.Json.parse(
                Files.readString(out.resolve("eval.json")));
        java.util.Map<?, ?> test = (java.util.Map<?, ?>) report.get("test");
        assertEquals(6.0, test.get("images"));
        assertTrue(Double.isFinite((Double) test.get("nll")) && (Double) test.get("nvlb") > 0);
        assertTrue(report.containsKey("gen_gap"));
        assertEquals(Boolean.FALSE, ((java.util.Map<?, ?>) report.get("protocol")).get("paper_protocol"));
        Outcome badSplit = run("eval", "--checkpoint", out.toString(), "--split", "val");
        assertEquals(2, badSplit.status());
        assertTrue(badSplit.err().contains("unknown split"), badSplit.err());
        Outcome badT = run("eval", "--checkpoint", out.toString(), "--nll-temperatures", "1");
        assertEquals(2, badT.status());
        Outcome missing = run("eval", "--checkpoint", dir.resolve("none").toString());
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("not a training run folder"), missing.err());
    }

    @Test
    void unknownCommandAndHelp() {
        assertEquals(2, run("fly").status());
        assertEquals(0, run("help").status());
        assertEquals(0, run("train", "--help").status());
        Outcome f = run("data", "fetch", "omniglot", "--data-dir", dir.toString());
        assertEquals(2, f.status());
        assertTrue(f.err().contains("cannot be fetched"), f.err());
    }
}
