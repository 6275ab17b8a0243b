package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.aiwae.eval.Evaluator;
import org.aiwae.eval.SplitResult;
import org.aiwae.io.Json;
import org.aiwae.train.Method;
import org.aiwae.train.TrainConfig;
import org.aiwae.train.TrainSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A diverged evaluation shows as NaN, never as the dash of a value that was not measured. */
class TableTest {
    @TempDir
    Path dir;

    private static final TrainConfig CONFIG = new TrainConfig("mnist", Method.IWAE, 5, 5, 5, 50, 200, 20, 3,
            TrainSchedule.SHORT, 0, 0, "cpu", 50, 100);
    private static final Evaluator.Protocol PROTOCOL = new Evaluator.Protocol(16, 100, 10, 0.6, 50, 100, "per image", false);

    private static EvalReport eval(String checkpoint, double nll, double nvlb, int diverged) {
        SplitResult test = new SplitResult(10, "0:10", "eval-test.jsonl", nll, nvlb, nvlb - nll, diverged, 7,
                List.of(0.5));
        return new EvalReport(2, checkpoint, "mnist", Method.IWAE, CONFIG, 3, PROTOCOL, 0, "cpu", test, null, null);
    }

    @Test
    void nanIsShownAsNanWithANoteAndMissingAsADash() throws Exception {
        // through eval.json, as `aiwae table` reads it: NaN is the string "NaN" there
        Files.createDirectories(dir.resolve("a"));
        Files.writeString(dir.resolve("a").resolve("eval.json"), Json.write(eval("runs/a", Double.NaN, 90.5, 2)));
        assertTrue(Files.readString(dir.resolve("a").resolve("eval.json")).contains("\"nll\":\"NaN\""));
        String md = TableCommand.markdown(List.of(TableCommand.read(dir.resolve("a")),
                eval("runs/b", 88.25, Double.POSITIVE_INFINITY, 1)));
        assertTrue(md.contains("| NLL (test) | NaN | 88.25 |"), md);
        assertTrue(md.contains("| NVLB (test) | 90.50 | inf |"), md);
        assertTrue(md.contains("| var gap | NaN | inf |"), md);
        assertTrue(md.contains("| NLL (train) | - | - |"), md); // not measured: no --split both
        assertTrue(md.contains("| gen gap | - | - |"), md);
        assertTrue(md.contains("| active units | 7 | 7 |"), md);
        assertTrue(md.contains("the evaluation diverged") && md.contains("2 test images of runs/a, 1 test images of runs/b"), md);
    }

    @Test
    void finiteTablesHaveNoNote() {
        String md = TableCommand.markdown(List.of(eval("runs/a", 88.0, 90.5, 0)));
        assertTrue(!md.contains("NaN") && !md.contains("diverged"), md);
        assertEquals(1, md.lines().filter(l -> l.startsWith("| NLL (test) | 88.00 |")).count(), md);
    }
}
