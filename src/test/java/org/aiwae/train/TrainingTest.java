package org.aiwae.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.aiwae.AiwaeException;
import org.aiwae.data.Datasets;
import org.aiwae.data.Images;
import org.aiwae.data.Split;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.examples.FactorModel;
import org.aiwae.io.Json;
import org.aiwae.objective.EncoderKl;
import org.aiwae.io.SafeTensors;
import org.aiwae.kernels.OnEveryBackend;
import org.aiwae.kernels.TestBackends;
import org.aiwae.model.MlpVae;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingTest {
    private static final PrintStream QUIET = new PrintStream(java.io.OutputStream.nullOutputStream());
    private static final Split DATA = Datasets.embedded();
    @TempDir
    Path dir;

    static TrainConfig small(String method, int epochs) {
        return small(method, epochs, "cpu");
    }

    static TrainConfig small(String method, int epochs, String backend) {
        return new TrainConfig("embedded", Method.parse(method), 3, 3, 2, 8, 64, method.equals("aiwae") ? 50 : 20, epochs, TrainSchedule.SHORT,
                300, 11, backend, 20, 50, method.equals("aiwae") ? EncoderKl.ANALYTIC : EncoderKl.SAMPLE, 1e-3);
    }

    static List<EpochMetrics> metrics(Path run) throws Exception {
        return Files.readAllLines(run.resolve(RunFolder.METRICS)).stream()
                .map(l -> Json.read(l.getBytes(java.nio.charset.StandardCharsets.UTF_8), EpochMetrics.class, "metrics", false)).toList();
    }

    /**
     * Any {@link org.aiwae.model.LatentVariableModel} trains on images of any size: a factor model (not the paper's MLP)
     * on the embedded images pooled to 14x14 raises its held-out bound, and its checkpoint holds its own parameters;
     * a model whose size is not the images' is refused in one line.
     */
    @Test
    void trainsAUserDefinedModelOnImagesOfTheirOwnSize() throws Exception {
        Split pooled = new Split("embedded-14x14", pooled(DATA.train()), pooled(DATA.test()));
        FactorModel model = FactorModel.random(196, 3, new RandomStream(5));
        Path run = dir.resolve("factor");
        new Trainer(small("iwae", 3), pooled, model, Backends.cpu(), run, false, QUIET).run();
        List<EpochMetrics> m = metrics(run);
        assertTrue(m.get(2).testBound() > m.get(0).testBound() + 1, "bound " + m.get(0).testBound() + " -> " + m.get(2).testBound());
        Map<String, Tensor> saved = SafeTensors.read(run.resolve(RunFolder.MODEL)).tensors();
        assertEquals(model.namedParameters().keySet(), saved.keySet());
        assertArrayEquals(new int[] {196}, saved.get("dec.lognoise").shape());
        AiwaeException e = assertThrows(AiwaeException.class, () -> new Trainer(small("iwae", 1), DATA,
                FactorModel.random(196, 3, new RandomStream(5)), Backends.cpu(), dir.resolve("other"), false, QUIET));
        assertEquals("the model expects 196 pixels per image, the data has 784", e.getMessage());
    }

    /**
     * A run of a user-defined model reads back into the model its recipe makes of the run's configuration, sized by
     * the images of the configuration's dataset: the trained parameters, bit for bit, and the epoch.
     */
    @Test
    void readsBackTheModelTheRecipeMakesOfTheConfiguration() throws Exception {
        FactorModel model = FactorModel.random(784, 3, new RandomStream(5));
        Path run = dir.resolve("factor-784");
        new Trainer(small("iwae", 1), DATA, model, Backends.cpu(), run, false, QUIET).run();
        CheckpointReader.Loaded<FactorModel> loaded = CheckpointReader.readModel(run,
                (config, pixels) -> FactorModel.random(pixels, 3, new RandomStream(0)));
        assertEquals(1, loaded.epoch());
        assertEquals(784, loaded.model().dataDim());
        for (var p : model.namedParameters().entrySet()) {
            assertArrayEquals(p.getValue().value().toArray(), loaded.model().namedParameters().get(p.getKey()).value().toArray(),
                    p.getKey());
        }
    }

    /** {@code images} at half the resolution: each pixel the mean of a 2x2 block. */
    private static Images pooled(Images images) {
        int rows = images.rows() / 2, cols = images.cols() / 2;
        float[] p = new float[images.count() * rows * cols];
        for (int n = 0; n < images.count(); n++) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    int at = n * images.dim() + 2 * r * images.cols() + 2 * c;
                    p[(n * rows + r) * cols + c] = (images.pixels()[at] + images.pixels()[at + 1] + images.pixels()[at + images.cols()]
                            + images.pixels()[at + images.cols() + 1]) / 4;
                }
            }
        }
        return new Images(images.name() + " 14x14", p, images.count(), rows, cols, images.labels());
    }

    /** Each method, with the model and its minibatches on the backend, raises the held-out bound L_20 within 3 epochs. */
    @OnEveryBackend
    void everyMethodImprovesTheHeldOutBound(String backend) throws Exception {
        Backend be = TestBackends.get(backend);
        for (String method : List.of("vae", "iwae", "aiwae")) {
            Path run = dir.resolve(method);
            new Trainer(small(method, 3, backend), DATA, be, run, false, QUIET).run();
            List<EpochMetrics> m = metrics(run);
            double first = m.get(0).testBound(), last = m.get(2).testBound();
            assertTrue(last > first + 5, method + ": bound " + first + " -> " + last);
            if (method.equals("aiwae")) {
                assertEquals(2, m.get(2).acceptance().size(), "T - 1 acceptance rates");
                assertEquals(2, m.get(2).stepSizes().size());
            }
        }
    }

    /**
     * Same seed, same run: bit for bit on each backend (a device runs its kernels in a fixed order, so a run
     * repeats itself there too; only the CPU backend gives the same bytes on every machine), and a run resumed
     * from its checkpoint continues it to the same bytes.
     */
    @OnEveryBackend
    void sameSeedGivesTheSameRunBitForBitAndResumeContinuesIt(String backend) throws Exception {
        Backend be = TestBackends.get(backend);
        TrainConfig c = small("aiwae", 2, backend);
        Path a = dir.resolve("a"), b = dir.resolve("b");
        new Trainer(c, DATA, be, a, false, QUIET).run();
        new Trainer(c.withEpochs(1, TrainSchedule.SHORT), DATA, be, b, false, QUIET).run();
        // continue b to 2 epochs: the shortened schedule of a 2-epoch run, as a has
        RunFolder.writeConfig(b, c);
        new Trainer(c, DATA, be, b, true, QUIET).run();
        List<EpochMetrics> ma = metrics(a), mb = metrics(b);
        assertEquals(2, mb.size());
        for (int e = 0; e < 2; e++) {
            assertEquals(ma.get(e).loss(), mb.get(e).loss(), "loss at epoch " + (e + 1));
            assertEquals(ma.get(e).encoderLoss(), mb.get(e).encoderLoss(), "encoder loss at epoch " + (e + 1));
            assertEquals(ma.get(e).testBound(), mb.get(e).testBound(), "test bound at epoch " + (e + 1));
            assertEquals(ma.get(e).acceptance(), mb.get(e).acceptance(), "acceptance at epoch " + (e + 1));
            assertEquals(ma.get(e).stepSizes(), mb.get(e).stepSizes(), "step sizes at epoch " + (e + 1));
        }
        assertEquals(ma.get(1).lr(), mb.get(1).lr());
        Map<String, Tensor> wa = SafeTensors.read(a.resolve(RunFolder.MODEL)).tensors();
        Map<String, Tensor> wb = SafeTensors.read(b.resolve(RunFolder.MODEL)).tensors();
        for (String k : wa.keySet()) {
            assertArrayEquals(wa.get(k).toArray(), wb.get(k).toArray(), k);
        }
        Path c2 = dir.resolve("c");
        new Trainer(c, DATA, be, c2, false, QUIET).run();
        assertEquals(metrics(a).get(1).testBound(), metrics(c2).get(1).testBound());
    }

    /**
     * {@code --resume --backend X} on a run trained on the CPU: the checkpoint (weights, Adam moments, HMC step
     * sizes) moves to the backend and the run goes on there. On the CPU it is the uninterrupted run bit for bit;
     * on a device the second epoch differs from the CPU's by float32 rounding only (a resume that dropped the
     * Adam moments moved the loss by 1.5 nats, 3e-3 of it, on either backend).
     */
    @OnEveryBackend
    void aRunTrainedOnTheCpuResumesOnTheBackend(String backend) throws Exception {
        Backend be = TestBackends.get(backend);
        TrainConfig c = small("aiwae", 2);
        Path whole = dir.resolve("whole"), resumed = dir.resolve("resumed");
        new Trainer(c, DATA, Backends.cpu(), whole, false, QUIET).run();
        new Trainer(c.withEpochs(1, TrainSchedule.SHORT), DATA, Backends.cpu(), resumed, false, QUIET).run();
        RunFolder.writeConfig(resumed, c);
        new Trainer(small("aiwae", 2, backend), DATA, be, resumed, true, QUIET).run();
        assertEquals(backend, RunFolder.readConfig(resumed).backend());
        EpochMetrics a = metrics(whole).get(1), b = metrics(resumed).get(1);
        assertEquals(2, metrics(resumed).size());
        // relative; measured on PoCL: 4e-8 (encoder loss), 1e-9 (bound), step sizes equal
        double tol = be.isHost() ? 0 : 1e-4;
        assertEquals(a.loss(), b.loss(), tol * Math.abs(a.loss()), backend + ": loss of the resumed epoch");
        assertEquals(a.encoderLoss(), b.encoderLoss(), tol * Math.abs(a.encoderLoss()), backend + ": encoder loss of the resumed epoch");
        assertEquals(a.testBound(), b.testBound(), tol * Math.abs(a.testBound()), backend + ": test bound after the resumed epoch");
        for (int t = 0; t < a.stepSizes().size(); t++) {
            assertEquals(a.stepSizes().get(t), b.stepSizes().get(t), tol * a.stepSizes().get(t), backend + ": step size " + t);
        }
    }

    /**
     * A run folder from before --encoder-kl and --learning-rate (its config.json has neither) resumes
     * as it was trained: sampled KL and the paper's rates, bit for bit the run it would have been.
     */
    @Test
    void runsFromBeforeEncoderKlAndLearningRateResumeAsTheyWereTrained() throws Exception {
        TrainConfig old = new TrainConfig("embedded", Method.AIWAE, 3, 3, 2, 8, 64, 50, 2, TrainSchedule.SHORT, 300, 11, "cpu",
                20, 50, EncoderKl.SAMPLE, TrainConfig.PAPER_LEARNING_RATE);
        Path whole = dir.resolve("whole"), resumed = dir.resolve("resumed");
        new Trainer(old, DATA, Backends.cpu(), whole, false, QUIET).run();
        new Trainer(old.withEpochs(1, TrainSchedule.SHORT), DATA, Backends.cpu(), resumed, false, QUIET).run();
        RunFolder.writeConfig(resumed, old);
        Path config = resumed.resolve(RunFolder.CONFIG);
        String json = Files.readString(config);
        String stripped = json.replaceAll(",\\s*\"encoder_kl\"\\s*:\\s*\"sample\"", "")
                .replaceAll(",\\s*\"learning_rate\"\\s*:\\s*[0-9.eE-]+", "");
        assertTrue(!stripped.contains("encoder_kl") && !stripped.contains("learning_rate"), stripped);
        Files.writeString(config, stripped);
        TrainConfig read = RunFolder.readConfig(resumed);
        assertEquals(EncoderKl.SAMPLE, read.encoderKl());
        assertEquals(TrainConfig.PAPER_LEARNING_RATE, read.learningRate());
        new Trainer(read, DATA, Backends.cpu(), resumed, true, QUIET).run();
        Map<String, Tensor> wa = SafeTensors.read(whole.resolve(RunFolder.MODEL)).tensors();
        Map<String, Tensor> wb = SafeTensors.read(resumed.resolve(RunFolder.MODEL)).tensors();
        for (String k : wa.keySet()) {
            assertArrayEquals(wa.get(k).toArray(), wb.get(k).toArray(), k);
        }
        assertEquals(metrics(whole).get(1).encoderLoss(), metrics(resumed).get(1).encoderLoss());
        // the closed-form KL trains the encoder differently from the first step on
        Path analytic = dir.resolve("analytic");
        TrainConfig a = new TrainConfig("embedded", Method.AIWAE, 3, 3, 2, 8, 64, 50, 1, TrainSchedule.SHORT, 300, 11, "cpu",
                20, 50, EncoderKl.ANALYTIC, TrainConfig.PAPER_LEARNING_RATE);
        new Trainer(a, DATA, Backends.cpu(), analytic, false, QUIET).run();
        assertTrue(metrics(analytic).get(0).encoderLoss() != metrics(whole).get(0).encoderLoss());
    }

    @Test
    void learningRateScalesTheSchedule() {
        TrainConfig paper = small("iwae", 16);
        TrainConfig fast = new TrainConfig("embedded", Method.IWAE, 3, 3, 2, 8, 64, 20, 16, TrainSchedule.SHORT, 300, 11, "cpu",
                20, 50, EncoderKl.SAMPLE, 3e-3);
        for (int e = 0; e < 16; e++) {
            assertEquals(3 * paper.learningRate(e), fast.learningRate(e), 1e-12);
        }
        assertEquals(3e-3, fast.learningRate(0), 1e-12);
        assertEquals(LearningRates.shortened(5, 16), paper.learningRate(5), 0, "the paper's rate, unscaled");
        assertThrows(IllegalArgumentException.class, () -> new TrainConfig("embedded", Method.IWAE, 3, 3, 2, 8, 64, 20, 16,
                TrainSchedule.SHORT, 300, 11, "cpu", 20, 50, EncoderKl.SAMPLE, 0.0));
        IllegalArgumentException iwaeAnalytic = assertThrows(IllegalArgumentException.class, () -> new TrainConfig("embedded",
                Method.IWAE, 3, 3, 2, 8, 64, 20, 16, TrainSchedule.SHORT, 300, 11, "cpu", 20, 50, EncoderKl.ANALYTIC, 1e-3));
        assertTrue(iwaeAnalytic.getMessage().startsWith("encoder_kl"), iwaeAnalytic.getMessage());
    }

    /** A checkpoint written from the backend's memory: the same names, shapes and metadata everywhere. */
    @OnEveryBackend
    void checkpointHasPyTorchNamesShapesAndMetadata(String backend) throws Exception {
        Path run = dir.resolve("ck");
        new Trainer(small("iwae", 1, backend), DATA, TestBackends.get(backend), run, false, QUIET).run();
        SafeTensors.Contents c = SafeTensors.read(run.resolve(RunFolder.MODEL));
        assertArrayEquals(new int[] {64, 784}, c.tensors().get("enc.l1.weight").shape());
        assertArrayEquals(new int[] {8, 64}, c.tensors().get("enc.mu.weight").shape());
        assertArrayEquals(new int[] {8, 64}, c.tensors().get("enc.logsigma.weight").shape());
        assertArrayEquals(new int[] {64, 8}, c.tensors().get("dec.l1.weight").shape());
        assertArrayEquals(new int[] {784, 64}, c.tensors().get("dec.out.weight").shape());
        assertArrayEquals(new int[] {784}, c.tensors().get("dec.out.bias").shape());
        assertEquals(14, c.tensors().size());
        assertEquals("iwae", c.metadata().get("method"));
        assertEquals("1", c.metadata().get("epoch"));
        try (var s = Files.list(run)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }
        CheckpointReader.Loaded<MlpVae> loaded = CheckpointReader.readModel(run);
        assertArrayEquals(c.tensors().get("dec.l2.bias").toArray(),
                loaded.model().namedParameters().get("dec.l2.bias").value().toArray());
    }

    @Test
    void learningRateSchedules() {
        assertEquals(1e-3, LearningRates.paper(0), 1e-12);
        assertEquals(1e-3 * Math.pow(10, -1 / 7.0), LearningRates.paper(1), 1e-12);
        assertEquals(1e-3 * Math.pow(10, -1 / 7.0), LearningRates.paper(3), 1e-12);
        assertEquals(1e-3 * Math.pow(10, -2 / 7.0), LearningRates.paper(4), 1e-12);
        assertEquals(1e-4, LearningRates.paper(3279), 1e-12);
        assertEquals(1e-3, LearningRates.shortened(0, 16), 1e-12);
        assertEquals(LearningRates.rate(1), LearningRates.shortened(2, 16), 1e-12);
        assertEquals(1e-4, LearningRates.shortened(15, 16), 1e-12);
    }

    @Test
    void aBudgetShortensEveryStageOfThePaperSchedule() {
        assertEquals(TrainSchedule.PAPER_EPOCHS, LearningRates.paperEpochs(1));
        int[] tenth = {1, 1, 1, 3, 9, 25, 73, 219};
        int[] half = {1, 2, 5, 14, 41, 122, 365, 1094};
        int start = 0;
        for (int i = 0; i < LearningRates.STAGES; i++) {
            assertEquals(tenth[i], LearningRates.stageEpochs(i, 0.1), "stage " + i + " at 0.1");
            assertEquals(half[i], LearningRates.stageEpochs(i, 0.5), "stage " + i + " at 0.5");
            assertEquals((int) Math.pow(3, i), LearningRates.stageEpochs(i, 1), "stage " + i + " whole");
            assertEquals(1, LearningRates.stageEpochs(i, 1e-6), "every stage keeps an epoch");
            assertEquals(LearningRates.rate(i), LearningRates.paper(start, 0.1), 0, "first epoch of stage " + i);
            start += tenth[i];
            assertEquals(LearningRates.rate(i), LearningRates.paper(start - 1, 0.1), 0, "last epoch of stage " + i);
        }
        assertEquals(332, LearningRates.paperEpochs(0.1));
        assertEquals(3, LearningRates.stageEpochs(2, 1 / 3.0), "9 x 1/3 is 3, not 4");
        TrainConfig c = new TrainConfig("embedded", Method.IWAE, 1, 2, 1, 8, 64, 20, TrainSchedule.PAPER_EPOCHS, TrainSchedule.PAPER,
                300, 11, "cpu", 20, 50).withPaperSchedule(0.1);
        assertEquals(332, c.epochs());
        assertEquals(LearningRates.rate(7), c.learningRate(331), 0);
        assertEquals(LearningRates.rate(6), c.learningRate(112), 0, "1+1+1+3+9+25+73 = 113 epochs before the last stage");
        assertEquals(LearningRates.rate(7), c.learningRate(113), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TrainConfig("embedded", Method.IWAE, 1, 2,
                1, 8, 64, 20, 330, TrainSchedule.PAPER, 300, 11, "cpu", 20, 50, null, null, 0.1));
        assertTrue(e.getMessage().startsWith("schedule paper at budget 0.1 runs 332 epochs, not 330"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TrainConfig("embedded", Method.IWAE, 1, 2,
                1, 8, 64, 20, 30, TrainSchedule.SHORT, 300, 11, "cpu", 20, 50, null, null, 0.1));
        assertTrue(e.getMessage().startsWith("budget applies to schedule paper"), e.getMessage());
    }
}
