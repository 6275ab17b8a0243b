package org.aiwae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.aiwae.AiwaeException;
import org.aiwae.data.Datasets;
import org.aiwae.data.Split;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backends;
import org.aiwae.io.Json;
import org.aiwae.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No NaN or infinity ever reaches a checkpoint: a diverged epoch is retrained from the last good one, a bounded number of times. */
class DivergenceTest {
    private static final PrintStream QUIET = new PrintStream(java.io.OutputStream.nullOutputStream());
    private static final Split DATA = Datasets.embedded();
    private static final TrainConfig CONFIG = new TrainConfig("embedded", Method.AIWAE, 2, 3, 2, 4, 16, 25, 3, TrainSchedule.SHORT, 100, 7, "cpu", 5, 20);
    @TempDir
    Path dir;

    /** Poisons the state after the last minibatch of 0-based epoch {@code epoch} in the first {@code attempts} attempts. */
    private static TrainHooks poison(int epoch, int attempts, boolean parameter) {
        return new TrainHooks() {
            @Override
            public void afterStep(Trainer t, int e, int attempt, int batch, int batches) {
                if (e == epoch && attempt < attempts && batch == batches - 1) {
                    Tensor target = parameter ? t.model().namedParameters().get("dec.out.bias").value()
                            : t.step().generative().secondMoments()[0];
                    target.data()[target.offset() + 3] = parameter ? Float.POSITIVE_INFINITY : Float.NaN;
                }
            }
        };
    }

    private static List<JsonNode> lines(Path run) throws Exception {
        return Files.readAllLines(run.resolve(RunFolder.METRICS)).stream()
                .map(l -> Json.tree(l.getBytes(StandardCharsets.UTF_8), "metrics line")).toList();
    }

    @Test
    void aNaNInTheLastMinibatchOfAnEpochIsNeverSavedAndTheEpochIsRetrained() throws Exception {
        for (boolean parameter : List.of(false, true)) {
            Path run = dir.resolve(parameter ? "parameter" : "moment");
            Trainer t = new Trainer(CONFIG, DATA, Backends.cpu(), run, false, QUIET).hooks(poison(1, 1, parameter));
            t.run();
            assertEquals(3, t.epoch(), "training finishes");
            List<JsonNode> m = lines(run);
            assertEquals(4, m.size(), "three epochs and one restart: " + m);
            assertEquals(1, m.get(0).get("epoch").asInt());
            JsonNode restart = m.get(1);
            assertEquals("restart", restart.get("event").asText());
            assertEquals(2, restart.get("epoch").asInt());
            assertEquals(2, restart.get("attempt").asInt());
            assertEquals(1, restart.get("restarted_from").asInt());
            String reason = restart.get("reason").asText();
            assertTrue(reason.contains(parameter ? "parameter dec.out.bias" : "training state adam.gen.v."), reason);
            assertEquals(2, m.get(2).get("epoch").asInt());
            assertEquals(2, m.get(2).get("attempt").asInt(), "the epoch that was retrained says so");
            assertEquals(3, m.get(3).get("epoch").asInt());
            assertFiniteEverywhere(run);
        }
    }

    @Test
    void aLossThatTurnsNaNMidEpochRestartsTheEpoch() throws Exception {
        Path run = dir.resolve("loss");
        // an infinite weight after the first minibatch makes the next minibatch's loss NaN
        Trainer t = new Trainer(CONFIG, DATA, Backends.cpu(), run, false, QUIET).hooks(new TrainHooks() {
            @Override
            public void afterStep(Trainer tr, int e, int attempt, int batch, int batches) {
                if (e == 0 && attempt == 0 && batch == 0) {
                    tr.model().namedParameters().get("enc.l1.weight").value().fill(Float.NaN);
                }
            }
        });
        t.run();
        List<JsonNode> m = lines(run);
        assertEquals("restart", m.get(0).get("event").asText());
        assertTrue(m.get(0).get("reason").asText().contains("at minibatch 2 of 4"), m.get(0).toString());
        assertEquals(0, m.get(0).get("restarted_from").asInt(), "epoch 1 restarts from the initial weights");
        assertEquals(4, m.size());
        assertFiniteEverywhere(run);
    }

    @Test
    void persistentDivergenceStopsWithOneLineAndKeepsTheLastGoodCheckpoint() throws Exception {
        Path run = dir.resolve("hopeless");
        Trainer t = new Trainer(CONFIG, DATA, Backends.cpu(), run, false, QUIET).hooks(poison(1, 99, false));
        AiwaeException e = assertThrows(AiwaeException.class, t::run);
        assertTrue(e.getMessage().contains("training diverged at epoch 2 4 times"), e.getMessage());
        assertTrue(e.getMessage().contains("the checkpoint of epoch 1 is intact"), e.getMessage());
        assertEquals(1, Checkpoints.latestEpoch(run));
        assertEquals(1, lines(run).size(), "no line for an epoch that was not published");
        assertFiniteEverywhere(run);
        // the run can be resumed (here it diverges no more)
        new Trainer(CONFIG, DATA, Backends.cpu(), run, true, QUIET).run();
        assertEquals(3, Checkpoints.latestEpoch(run));
    }

    @Test
    void aCheckpointHoldingNaNIsRefusedOnResume() throws Exception {
        Path run = dir.resolve("edited");
        new Trainer(CONFIG.withEpochs(1, TrainSchedule.SHORT), DATA, Backends.cpu(), run, false, QUIET).run();
        Path state = Checkpoints.latestUnit(run).resolve(RunFolder.STATE);
        SafeTensors.Contents c = SafeTensors.read(state);
        Map<String, Tensor> tensors = new LinkedHashMap<>(c.tensors());
        Tensor v = tensors.get("adam.gen.v.dec.l1.weight");
        v.data()[v.offset()] = Float.NaN;
        SafeTensors.write(state, tensors, c.metadata());
        CheckpointFiles.reseal(run); // with matching sums, as if written so: the finiteness check must refuse it
        RunFolder.writeConfig(run, CONFIG);
        AiwaeException e = assertThrows(AiwaeException.class,
                () -> new Trainer(CONFIG, DATA, Backends.cpu(), run, true, QUIET).run());
        assertTrue(e.getMessage().contains("adam.gen.v.dec.l1.weight holds NaN"), e.getMessage());
        assertEquals(1, Checkpoints.latestEpoch(run), "nothing was trained or written");
    }

    private static void assertFiniteEverywhere(Path run) throws Exception {
        try (Stream<Path> s = Files.walk(run)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".safetensors")).toList()) {
                for (Map.Entry<String, Tensor> e : SafeTensors.read(p).tensors().entrySet()) {
                    for (float x : e.getValue().toArray()) {
                        assertTrue(Float.isFinite(x), p + " " + e.getKey() + " holds " + x);
                    }
                }
            }
        }
        Checkpoint s = CheckpointReader.readLatest(run);
        assertNull(s.firstNonFinite());
    }
}
