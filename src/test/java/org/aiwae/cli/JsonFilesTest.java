package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.aiwae.AiwaeException;
import org.aiwae.engine.Tensor;
import org.aiwae.eval.Evaluator;
import org.aiwae.eval.SplitResult;
import org.aiwae.io.Json;
import org.aiwae.io.SafeTensors;
import org.aiwae.train.EpochMetrics;
import org.aiwae.train.Method;
import org.aiwae.train.RunFolder;
import org.aiwae.train.TrainConfig;
import org.aiwae.train.TrainSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json, eval.json and metrics lines: records -> JSON -> equal records, keys in a fixed order; hostile files refused. */
class JsonFilesTest {
    @TempDir
    Path dir;

    private static final TrainConfig CONFIG = new TrainConfig("embedded", Method.AIWAE, 5, 5, 5, 50, 200, 128, 20,
            TrainSchedule.SHORT, 0, 7, "cpu", 50, 100);

    /** The top-level keys of a JSON object in the order written. */
    private static List<String> keys(String json) {
        List<String> keys = new ArrayList<>();
        int depth = 0;
        Matcher m = Pattern.compile("[{}\\[\\]]|\"((?:[^\"\\\\]|\\\\.)*)\"(\\s*:)?").matcher(json);
        while (m.find()) {
            String t = m.group();
            if (t.equals("{") || t.equals("[")) {
                depth++;
            } else if (t.equals("}") || t.equals("]")) {
                depth--;
            } else if (depth == 1 && m.group(2) != null) {
                keys.add(m.group(1));
            }
        }
        return keys;
    }

    private static <T> T roundTrip(Object value, Class<T> type) {
        return Json.read(Json.write(value).getBytes(StandardCharsets.UTF_8), type, "test", false);
    }

    @Test
    void configRoundTripsWithFixedKeyOrder() {
        String json = Json.write(CONFIG);
        assertEquals(List.of("dataset", "method", "samples", "temperatures", "leapfrog", "latent", "hidden", "batch_size", "epochs",
                "schedule", "train_limit", "seed", "backend", "eval_samples", "eval_images", "encoder_kl", "learning_rate", "budget"), keys(json));
        assertTrue(json.contains("\"method\":\"aiwae\"") && json.contains("\"schedule\":\"short\""), json);
        TrainConfig analytic = new TrainConfig("embedded", Method.AIWAE, 5, 5, 5, 50, 200, 20, 20, TrainSchedule.SHORT, 0, 7, "cpu",
                50, 100, org.aiwae.objective.EncoderKl.ANALYTIC, 3e-3);
        assertTrue(Json.write(analytic).contains("\"encoder_kl\":\"analytic\",\"learning_rate\":0.003"), Json.write(analytic));
        assertEquals(analytic, roundTrip(analytic, TrainConfig.class));
        // a config.json from before --encoder-kl and --learning-rate: the sampled KL and the paper's rates, as it trained
        String old = json.replaceAll(",\"encoder_kl\":\"[a-z]+\",\"learning_rate\":[0-9.eE-]+,\"budget\":[0-9.eE-]+", "");
        assertFalse(old.contains("encoder_kl"), old);
        TrainConfig before = Json.read(old.getBytes(StandardCharsets.UTF_8), TrainConfig.class, "old", false);
        assertEquals(org.aiwae.objective.EncoderKl.SAMPLE, before.encoderKl());
        assertEquals(TrainConfig.PAPER_LEARNING_RATE, before.learningRate());
        assertEquals(1.0, before.budget(), "a config.json from before --budget ran the whole schedule");
        String typo = json.replace("\"encoder_kl\":\"sample\"", "\"encoder_kl\":\"exact\"");
        org.aiwae.AiwaeException e = org.junit.jupiter.api.Assertions.assertThrows(org.aiwae.AiwaeException.class,
                () -> Json.read(typo.getBytes(StandardCharsets.UTF_8), TrainConfig.class, "typo", false));
        assertTrue(e.getMessage().contains("encoder KL 'exact'") && e.getMessage().contains("analytic or sample"), e.getMessage());
        assertEquals(CONFIG, roundTrip(CONFIG, TrainConfig.class));
        TrainConfig paper = new TrainConfig("mnist", Method.IWAE, 1, 2, 1, 2, 8, 20, TrainSchedule.PAPER_EPOCHS,
                TrainSchedule.PAPER, 10, Long.MAX_VALUE, "auto", 1, 1);
        assertEquals(paper, roundTrip(paper, TrainConfig.class));
        assertEquals(Json.write(paper), Json.write(roundTrip(paper, TrainConfig.class)), "same bytes again");
        TrainConfig tenth = paper.withPaperSchedule(0.1);
        assertEquals(332, tenth.epochs());
        assertEquals(tenth, roundTrip(tenth, TrainConfig.class));
        assertEquals("paper at budget 0.1", tenth.scheduleLabel());
    }

    @Test
    void aFieldNameWithLineBreaksIsNamedOnOneLine() {
        String json = Json.write(CONFIG);
        for (String name : new String[] {"lat\n", "a\rb", "nul\u0000", "ls\u2028", "tab\t"}) {
            String bad = Json.write(Map.of(name, 1)).replaceAll("}$", ",") + json.substring(1); // {"lat\n":1,"dataset":...}
            AiwaeException e = assertThrows(AiwaeException.class,
                    () -> Json.read(bad.getBytes(StandardCharsets.UTF_8), TrainConfig.class, "config.json", false));
            String m = e.getMessage();
            assertTrue(m.startsWith("config.json: field ") && m.lines().count() == 1 && m.chars().noneMatch(Character::isISOControl)
                    && m.indexOf('\u2028') < 0, m);
        }
    }

    @Test
    void metricsLinesRoundTripWithFixedKeyOrder() {
        EpochMetrics aiwae = new EpochMetrics(3, Method.AIWAE, 1e-3, 150.25, 151.5, -149.75, 50, 100, -206.5,
                List.of(0.61, 0.58), List.of(0.05000000074505806, 0.1), 2);
        String json = Json.write(aiwae);
        assertEquals(List.of("epoch", "method", "lr", "loss", "encoder_loss", "test_bound", "test_bound_samples", "test_bound_images",
                "mean_image_bound", "acceptance", "step_sizes", "attempt"), keys(json));
        assertEquals(aiwae, roundTrip(aiwae, EpochMetrics.class));
        EpochMetrics iwae = new EpochMetrics(1, Method.IWAE, 1e-3, Double.NaN, 1, 2, 5, 6, null, null, null, null);
        String line = Json.write(iwae);
        assertFalse(line.contains("acceptance") || line.contains("step_sizes") || line.contains("attempt"), "absent for IWAE: " + line);
        assertTrue(line.contains("\"loss\":\"NaN\""), "NaN is written as NaN, not as null (not measured): " + line);
        EpochMetrics back = roundTrip(iwae, EpochMetrics.class);
        assertTrue(Double.isNaN(back.loss()));
        assertEquals(iwae, back);
    }

    @Test
    void evalReportRoundTripsWithFixedKeyOrder() {
        Evaluator.Protocol protocol = new Evaluator.Protocol(16, 10_000, 10, 0.6, 5000, 100, "per image", true);
        SplitResult test = new SplitResult(100, "0:100", "eval-test.jsonl", 90.5, 92.25, 1.75, 0, 3,
                List.of(0.5, 0.001, 1.25));
        SplitResult train = new SplitResult(100, "0:100", "eval-train.jsonl", Double.NaN, 90.0, Double.NaN,
                1, null, null);
        EvalReport both = new EvalReport(2, "runs/x", "embedded", Method.AIWAE, CONFIG, 20, protocol, 7, "cpu", test, train, Double.NaN);
        String json = Json.write(both);
        assertEquals(List.of("format", "checkpoint", "dataset", "method", "config", "epoch", "protocol", "seed", "backend", "test",
                "train", "gen_gap"), keys(json));
        assertEquals(List.of("images", "image_range", "results", "nll", "nvlb", "var_gap", "diverged", "active_units", "activity"),
                keys(Json.write(test)));
        assertEquals(List.of("nll_chains", "nll_temperatures", "nll_leapfrog", "nll_step_size_target_acceptance", "nvlb_samples",
                "nvlb_chunk", "random_streams", "paper_protocol"), keys(Json.write(protocol)));
        assertTrue(json.contains("\"nll\":\"NaN\"") && json.contains("\"gen_gap\":\"NaN\""), "NaN as NaN, not null: " + json);
        assertEquals(both, roundTrip(both, EvalReport.class));
        EvalReport testOnly = new EvalReport(2, "runs/x", "embedded", Method.AIWAE, CONFIG, 20, protocol, 7, "cpu", test, null, null);
        assertFalse(Json.write(testOnly).contains("train\""));
        assertEquals(testOnly, roundTrip(testOnly, EvalReport.class));
    }

    @Test
    void safetensorsHeaderKeysAreSortedWhateverTheMapOrder() throws Exception {
        Map<String, Tensor> ab = new LinkedHashMap<>(), ba = new LinkedHashMap<>();
        Tensor a = Tensor.of(new float[] {1, 2}, 2), b = Tensor.of(new float[] {3}, 1);
        ab.put("a", a);
        ab.put("b", b);
        ba.put("b", b);
        ba.put("a", a);
        Map<String, String> m1 = new LinkedHashMap<>(), m2 = new LinkedHashMap<>();
        m1.put("x", "1");
        m1.put("y", "2");
        m2.put("y", "2");
        m2.put("x", "1");
        SafeTensors.write(dir.resolve("ab.safetensors"), ab, m1);
        SafeTensors.write(dir.resolve("ba.safetensors"), ba, m2);
        byte[] x = Files.readAllBytes(dir.resolve("ab.safetensors")), y = Files.readAllBytes(dir.resolve("ba.safetensors"));
        String header = new String(x, 8, (int) java.nio.ByteBuffer.wrap(x).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(),
                StandardCharsets.UTF_8);
        assertTrue(header.indexOf("\"__metadata__\"") < header.indexOf("\"a\"") && header.indexOf("\"a\"") < header.indexOf("\"b\""), header);
        SafeTensors.Contents c = SafeTensors.read(dir.resolve("ba.safetensors"));
        assertArrayEquals(new float[] {1, 2}, c.tensors().get("a").toArray());
        assertArrayEquals(new float[] {3}, c.tensors().get("b").toArray());
        assertEquals(Map.of("x", "1", "y", "2"), c.metadata());
        assertEquals(x.length, y.length);
    }

    /** A hand-edited config.json is refused on --resume with one line naming the file and the field; nothing is written. */
    @Test
    void handEditedConfigIsRefusedNamingTheField() throws Exception {
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        String good = Json.write(CONFIG);
        Map<String, String> edits = new LinkedHashMap<>();
        edits.put(good.replace("\"samples\":5", "\"samples\":2.7"), "samples");
        edits.put(good.replace("\"samples\":5", "\"samples\":\"5\""), "samples");
        edits.put(good.replace("\"samples\":5", "\"samples\":0"), "samples (K) must be at least 1");
        edits.put(good.replace("\"method\":\"aiwae\"", "\"method\":\"gan\""), "unknown method 'gan'");
        edits.put(good.replace("\"seed\":7,", ""), "seed");
        edits.put(good.replace("\"seed\":7", "\"seed\":7,\"sead\":1"), "sead");
        edits.put(good.replace("\"batch_size\":128", "\"batch_size\":null"), "batch_size");
        edits.put(good.replace("\"schedule\":\"short\"", "\"schedule\":\"paper\""), "schedule paper runs 3280 epochs");
        edits.put(good.substring(0, 40), "config.json");
        for (Map.Entry<String, String> e : edits.entrySet()) {
            Files.writeString(run.resolve(RunFolder.CONFIG), e.getKey());
            CliRun o = CliRun.of("train", "--resume", "--out", run.toString());
            assertEquals(2, o.status(), e.getKey() + " -> " + o.err());
            assertEquals(1, o.err().strip().lines().count(), o.err());
            assertTrue(o.err().contains(run.resolve(RunFolder.CONFIG).toString()) && o.err().contains(e.getValue()),
                    e.getKey() + " -> " + o.err());
            try (var files = Files.list(run)) {
                assertEquals(1, files.count(), "nothing written");
            }
        }
    }
}
