package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;
import org.aiwae.plot.LearningCurves;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code aiwae plot} and the curves.png that train writes: sizes, content, and refusals that write nothing. */
class PlotCommandTest {
    private static final int W = 2 * LearningCurves.PANEL_WIDTH, H = LearningCurves.PANEL_HEIGHT;

    @TempDir
    static Path dir;
    static Path aiwae, iwae;
    static CliRun trained;

    @BeforeAll
    static void twoSmallRuns() {
        aiwae = dir.resolve("aiwae-run");
        iwae = dir.resolve("iwae-run");
        trained = CliRun.of("train", "--method", "aiwae", "--samples", "2", "--temperatures", "3", "--leapfrog", "2", "--latent", "4",
                "--hidden", "16", "--batch-size", "20", "--train-limit", "100", "--epochs", "2", "--eval-samples", "5",
                "--out", aiwae.toString());
        assertEquals(0, trained.status(), trained.err());
        CliRun i = CliRun.of("train", "--method", "iwae", "--samples", "2", "--latent", "4", "--hidden", "16", "--train-limit", "100",
                "--epochs", "3", "--eval-samples", "5", "--out", iwae.toString());
        assertEquals(0, i.status(), i.err());
    }

    @Test
    void trainWritesCurvesAndSaysWhatToRunNext() throws Exception {
        BufferedImage img = ImageIO.read(aiwae.resolve(TrainCommand.CURVES).toFile());
        assertEquals(W, img.getWidth());
        assertEquals(2 * H, img.getHeight(), "bound and losses, then acceptance and step sizes");
        assertTrue(trained.err().contains("mean-image baseline"), trained.err());
        assertTrue(trained.err().contains("bin/aiwae samples --checkpoint " + aiwae), trained.err());
        assertTrue(trained.err().contains("bin/aiwae eval --checkpoint " + aiwae), trained.err());
        assertTrue(trained.err().contains("bin/aiwae plot " + aiwae), trained.err());
        assertEquals(aiwae.toString(), trained.out().strip(), "stdout is the run folder alone, for scripts");
        assertTrue(Files.readString(aiwae.resolve("metrics.jsonl")).contains("\"mean_image_bound\""));
        assertTrue(Files.readString(aiwae.resolve("config.json")).contains("\"encoder_kl\":\"analytic\""),
                "AIWAE defaults to the closed-form KL and records it");
        assertTrue(Files.readString(iwae.resolve("config.json")).contains("\"encoder_kl\":\"sample\""));
    }

    @Test
    void oneRunGivesTwoPanelsWithoutAnnealingAndAnAiwaeRunFour() throws Exception {
        Path one = dir.resolve("one.png");
        CliRun o = CliRun.of("plot", iwae.toString(), "--out", one.toString());
        assertEquals(0, o.status(), o.err());
        BufferedImage img = ImageIO.read(one.toFile());
        assertEquals(W, img.getWidth());
        assertEquals(H, img.getHeight());
        assertTrue(colours(img) > 20, "a chart, not a blank image");
        assertTrue(o.out().contains("(" + W + "x" + H + ")"), o.out());
    }

    @Test
    void severalRunsOverlaid() throws Exception {
        Path both = dir.resolve("both.png");
        CliRun o = CliRun.of("plot", iwae.toString(), aiwae.toString(), iwae.toString(), "--out", both.toString());
        assertEquals(0, o.status(), o.err());
        BufferedImage img = ImageIO.read(both.toFile());
        assertEquals(W, img.getWidth());
        assertEquals(2 * H, img.getHeight());
        assertTrue(o.out().contains("3 runs"), o.out());
        // each run draws in its own colour: Tableau blue, orange and green all appear
        Set<Integer> seen = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                seen.add(img.getRGB(x, y) & 0xFFFFFF);
            }
        }
        assertTrue(seen.contains(0x1F77B4) && seen.contains(0xFF7F0E) && seen.contains(0x2CA02C), "three run colours");
    }

    @Test
    void restartEventsBetweenEpochsAreNotEpochs() throws Exception {
        Path restarted = dir.resolve("restarted");
        Files.createDirectories(restarted);
        java.util.List<String> lines = new java.util.ArrayList<>(Files.readAllLines(iwae.resolve("metrics.jsonl")));
        lines.add(1, org.aiwae.io.Json.write(new org.aiwae.train.RestartEvent(2, 2, "NaN in loss", 1)));
        Files.write(restarted.resolve("metrics.jsonl"), lines);
        org.aiwae.plot.RunCurves c = org.aiwae.plot.RunCurves.read(restarted);
        assertEquals(3, c.epochs().length);
        assertEquals(2.0, c.epochs()[1]);
        CliRun o = CliRun.of("plot", restarted.toString(), "--out", dir.resolve("restarted.png").toString());
        assertEquals(0, o.status(), o.err());
    }

    @Test
    void badInputsAreOneLineAndWriteNothing() throws Exception {
        Path empty = dir.resolve("empty");
        Files.createDirectories(empty);
        refused("has no metrics.jsonl", "plot", empty.toString(), "--out", dir.resolve("a.png").toString());
        refused("does not exist", "plot", dir.resolve("missing").toString(), "--out", dir.resolve("b.png").toString());
        refused("FILE.png", "plot", iwae.toString(), "--out", dir.resolve("c.txt").toString());
        refused("does not exist", "plot", iwae.toString(), "--out", dir.resolve("no/such/folder.png").toString());
        refused("RUN", "plot", "--out", dir.resolve("d.png").toString());
        Path corrupt = dir.resolve("corrupt");
        Files.createDirectories(corrupt);
        Files.writeString(corrupt.resolve("metrics.jsonl"), "{\"epoch\": 1, \"loss\": \n");
        refused("metrics.jsonl line 1: malformed JSON", "plot", corrupt.toString(), "--out", dir.resolve("e.png").toString());
        Files.writeString(corrupt.resolve("metrics.jsonl"), "{\"epoch\": 1}\n");
        refused("metrics.jsonl line 1: ", "plot", corrupt.toString(), "--out", dir.resolve("g.png").toString());
        // a good run before a bad one: still nothing written
        refused("has no metrics.jsonl", "plot", iwae.toString(), empty.toString(), "--out", dir.resolve("f.png").toString());
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }
    }

    private static void refused(String expected, String... args) {
        CliRun o = CliRun.of(args);
        assertEquals(2, o.status(), String.join(" ", args) + " -> " + o.err());
        assertTrue(o.err().startsWith("aiwae: ") && o.err().strip().lines().count() == 1, o.err());
        assertTrue(o.err().contains(expected), o.err());
        String out = args[java.util.Arrays.asList(args).indexOf("--out") + 1];
        assertFalse(Files.exists(Path.of(out)), "nothing written for " + String.join(" ", args));
    }

    private static int colours(BufferedImage img) {
        Set<Integer> c = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                c.add(img.getRGB(x, y));
            }
        }
        return c.size();
    }
}
