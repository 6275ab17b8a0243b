package org.aiwae.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.aiwae.AiwaeException;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.MlpVae;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each image draws from its own streams; per-image results files survive torn lines and keep NaN. */
class PerImageStreamsTest {
    @TempDir
    Path dir;

    @Test
    void eachGroupDrawsFromItsOwnStreamInItsOwnSlots() {
        long[] ids = {7, 123456789012L, 3};
        ChainNoise.PerGroup noise = new ChainNoise.PerGroup(5, ids, 2);
        Tensor t = noise.normal(3, 5); // [3, groups, 5]
        float[] u = new float[3 * 3];
        noise.uniform(u, 3, 1);
        for (int g = 0; g < ids.length; g++) {
            RandomStream s = new RandomStream(5, ids[g], 2);
            float[] normals = new float[15], uniforms = new float[3];
            s.normal(normals, 0, 15);
            s.uniform(uniforms, 0, 3);
            for (int k = 0; k < 3; k++) {
                for (int d = 0; d < 5; d++) {
                    assertEquals(normals[k * 5 + d], t.data()[(k * ids.length + g) * 5 + d]);
                }
                assertEquals(uniforms[k], u[k * ids.length + g]);
            }
        }
        assertEquals(2 + ChainNoise.PerGroup.blocks(15) + ChainNoise.PerGroup.blocks(3), noise.position());
    }

    @Test
    void anImagesResultDoesNotDependOnItsBatchOrPosition() {
        MlpVae model = MlpVae.create(30, 16, 3, new RandomStream(1));
        Tensor x = new RandomStream(2).uniform(5, 30);
        float[] v = x.data();
        for (int i = 0; i < v.length; i++) {
            v[i] = v[i] < 0.3f ? 1 : 0;
        }
        ImageStreams streams = new ImageStreams(9, 1);
        int[] images = {10, 11, 12, 13, 14};
        Evaluator wide = new Evaluator(4, 40, 3, 50, 5, Backends.cpu()), narrow = new Evaluator(4, 40, 3, 50, 2, Backends.cpu());
        double[] nll = wide.logLikelihood(model, x, streams, images, null), nvlb = wide.bound(model, x, streams, images);
        // the same images reversed, in batches of 2 instead of one batch of 5
        Tensor reversed = Tensor.zeros(5, 30);
        for (int r = 0; r < 5; r++) {
            System.arraycopy(v, (4 - r) * 30, reversed.data(), r * 30, 30);
        }
        int[] back = {14, 13, 12, 11, 10};
        double[] nll2 = narrow.logLikelihood(model, reversed, streams, back, null), nvlb2 = narrow.bound(model, reversed, streams, back);
        for (int r = 0; r < 5; r++) {
            // equal up to the JIT tier's float rounding (bit for bit across fresh JVMs: EvalResumeTest);
            // a batch-dependent stream would differ by far more
            assertEquals(nll[r], nll2[4 - r], 1e-4, "AIS of image " + images[r]);
            assertEquals(nvlb[r], nvlb2[4 - r], 1e-4, "NVLB of image " + images[r]);
        }
        // another image index (other streams) on the same pixels gives another estimate
        double[] other = wide.logLikelihood(model, x, streams, new int[] {20, 21, 22, 23, 24}, null);
        assertTrue(Math.abs(other[0] - nll[0]) > 1e-3 || Math.abs(other[1] - nll[1]) > 1e-3, "streams must depend on the index");
    }

    private static ResultsFile.Header header(long seed) {
        return new ResultsFile.Header(2, "test", "embedded", 500, "abc", 1, seed, "cpu",
                new Evaluator(2, 5, 2, 10, 1, Backends.cpu()).protocol());
    }

    @Test
    void resultsFileDropsATornLineKeepsNanAndRefusesAnotherHeader() throws Exception {
        Path f = dir.resolve("eval-test.jsonl");
        try (ResultsFile r = ResultsFile.open(f, header(0))) {
            r.append(List.of(new ResultsFile.ImageResult(3, 90.5, 91.25), new ResultsFile.ImageResult(4, Double.NaN, 92)));
            r.append(List.of(new ResultsFile.ImageResult(5, Double.POSITIVE_INFINITY, 1e-300)));
        }
        assertTrue(Files.readString(f).contains("{\"image\":4,\"nll\":\"NaN\",\"nvlb\":92.0}"), Files.readString(f));
        long good = Files.size(f);
        Files.writeString(f, "{\"image\":6,\"nll\":1", StandardOpenOption.APPEND);
        byte[] torn = Files.readAllBytes(f);
        Map<Integer, ResultsFile.ImageResult> read = ResultsFile.read(f); // a reader: the same results, the file untouched
        assertArrayEquals(torn, Files.readAllBytes(f));
        try (ResultsFile r = ResultsFile.open(f, header(0))) {
            assertEquals(read, r.results());
            assertEquals(List.of(3, 4, 5), List.copyOf(r.results().keySet()));
            assertTrue(Double.isNaN(r.results().get(4).nll()) && !r.results().get(4).finite());
            assertEquals(Double.POSITIVE_INFINITY, r.results().get(5).nll());
            assertEquals(1e-300, r.results().get(5).nvlb());
            assertEquals(91.25, r.results().get(3).nvlb());
            assertEquals(good, Files.size(f), "the torn line is cut off");
        }
        byte[] before = Files.readAllBytes(f);
        AiwaeException e = org.junit.jupiter.api.Assertions.assertThrows(AiwaeException.class, () -> ResultsFile.open(f, header(1)));
        assertTrue(e.getMessage().contains("a different seed: 0 (now 1)"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(f));
    }

    @Test
    void aSecondWriterIsRefused() {
        Path f = dir.resolve("eval-train.jsonl");
        try (ResultsFile r = ResultsFile.open(f, header(0))) {
            AiwaeException e = org.junit.jupiter.api.Assertions.assertThrows(AiwaeException.class, () -> ResultsFile.open(f, header(0)));
            assertTrue(e.getMessage().contains("being written by another evaluation"), e.getMessage());
        }
    }
}
