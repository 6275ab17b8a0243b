package org.aiwae.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.backend.UnaryOp;
import org.aiwae.engine.random.RandomStream;

/**
 * Recorded device work ({@link DeviceBackend#record}, {@link DeviceGraph}): a replay computes bit for bit what
 * running the same code eagerly computes, with an input the host updates between replays; recording runs
 * nothing; host reads and writes inside a recording are errors naming the rule; the buffers a recording made
 * or used stay out of the pool until it closes; a replay counts as the work it runs.
 */
class DeviceGraphTest {
    private static final int ROWS = 5, IN = 12, HIDDEN = 9, OUT = 4, REPLAYS = 4;

    /** The recorded code: an input through a small network and a few primitives; its outputs. */
    private record Net(Tensor w1, Tensor b1, Tensor w2, Tensor mask, Tensor acc) {
        static Net on(DeviceBackend be) {
            RandomStream rng = new RandomStream(21);
            return new Net(rng.normal(HIDDEN, IN).to(be), rng.normal(1, HIDDEN).to(be), rng.normal(HIDDEN, OUT).to(be),
                    rng.uniform(ROWS).to(be), be.zeros(ROWS, OUT));
        }

        /** Outputs: y = tanh(x W1^T + b1) W2, its row sums and maxima, a masked select, noise and an accumulator. */
        List<Tensor> run(Backend be, Tensor x) {
            List<Tensor> out = new ArrayList<>();
            {
                Tensor h = be.zeros(ROWS, HIDDEN);
                be.matmul(x, false, w1, true, h, false);
                h = be.unary(UnaryOp.TANH, be.binary(BinaryOp.ADD, h, b1));
                Tensor y = be.zeros(ROWS, OUT);
                be.matmul(h, false, w2, false, y, false);
                be.matmul(h, false, w2, false, acc, true); // accumulates across runs: the state a replay carries
                Tensor scaled = be.binary(BinaryOp.MUL, y, 0.5f);
                out.add(y);
                out.add(be.reduce(ReduceOp.SUM, scaled, 1));
                out.add(be.reduce(ReduceOp.MAX, be.unary(UnaryOp.EXP, scaled), 0));
                Tensor keep = be.binary(BinaryOp.LESS, mask, 0.5f);
                out.add(be.where(keep, y, be.unary(UnaryOp.NEG, y)));
                out.add(be.philox(7, 3, 11, true, ROWS, 2));
                Tensor copy = be.zeros(ROWS, OUT);
                copy.copyFrom(acc);
                out.add(copy);
            }
            return out;
        }
    }

    private static List<float[]> values(List<Tensor> ts) {
        return ts.stream().map(Tensor::toArray).toList();
    }

    private static void assertBitwise(List<float[]> want, List<float[]> got, String what) {
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            float[] w = want.get(i), g = got.get(i);
            assertEquals(w.length, g.length, what + ", output " + i);
            for (int j = 0; j < w.length; j++) {
                assertEquals(Float.floatToRawIntBits(w[j]), Float.floatToRawIntBits(g[j]),
                        what + ", output " + i + "[" + j + "]: " + w[j] + " vs " + g[j]);
            }
        }
    }

    private static float[] batch(int i) {
        return new RandomStream(100 + i).normal(ROWS, IN).toArray();
    }

    @OnEveryDevice
    void aReplayComputesWhatEagerExecutionComputesBitForBit(String api) {
        DeviceBackend be = TestBackends.device(api);
        Tensor x = be.zeros(ROWS, IN);
        Net eager = Net.on(be);
        List<List<float[]>> want = new ArrayList<>();
        DeviceWork beforeEager = be.work();
        for (int i = 0; i < REPLAYS; i++) {
            x.copyFrom(batch(i));
            try (Backend.Reclaim scope = be.reclaim()) {
                want.add(values(eager.run(be, x)));
            }
        }
        DeviceWork eagerWork = be.work().since(beforeEager);

        Net net = Net.on(be);
        DeviceWork beforeRecording = be.work();
        try (DeviceGraph<List<Tensor>> g = be.record(() -> {
            try (Backend.Reclaim scope = be.reclaim()) {
                return net.run(be, x);
            }
        })) {
            DeviceWork recorded = be.work().since(beforeRecording);
            assertEquals(0, recorded.ops(), "recording runs nothing: " + recorded);
            DeviceWork beforeReplays = be.work();
            for (int i = 0; i < REPLAYS; i++) {
                x.copyFrom(batch(i)); // the input changes between replays, from the host, outside the recording
                g.replay();
                List<float[]> got = values(g.result()); // the outputs' scope closed inside the recording: they live on
                assertBitwise(want.get(i), got, api + " replay " + i);
                if (i > 0) {
                    assertFalse(java.util.Arrays.equals(want.get(i - 1).get(0), got.get(0)), "each replay computes its own batch");
                }
            }
            DeviceWork replays = be.work().since(beforeReplays);
            assertEquals(REPLAYS, replays.replays());
            assertEquals(g.perReplay().ops() * REPLAYS, replays.ops(), "a replay counts as the work it runs: " + replays);
            // eagerly, each run issued the same device ops plus the reads of the outputs; the replays issued the same reads
            assertEquals(eagerWork.launches(), replays.launches(), "the same launches: " + eagerWork + " vs " + replays);
            assertEquals(eagerWork.ops(), replays.ops());
            assertEquals(eagerWork.hostReads(), replays.hostReads());
        }
    }

    @OnEveryDevice
    void recordingRunsNothingUntilReplayed(String api) {
        DeviceBackend be = TestBackends.device(api);
        Tensor out = be.zeros(6), src = be.zeros(6).fill(3f), doubled = be.zeros(6);
        try (DeviceGraph<Void> g = be.record(() -> {
            out.fill(7f);
            doubled.copyFrom(be.binary(BinaryOp.MUL, src, 2f));
            return null;
        })) {
            assertArrayEquals(new float[6], out.toArray(), "the fill was recorded, not run");
            assertArrayEquals(new float[6], doubled.toArray(), "the launch and the copy were recorded, not run");
            g.replay();
            assertArrayEquals(new float[] {7, 7, 7, 7, 7, 7}, out.toArray());
            assertArrayEquals(new float[] {6, 6, 6, 6, 6, 6}, doubled.toArray());
            src.fill(-1f);
            g.replay();
            assertArrayEquals(new float[] {-2, -2, -2, -2, -2, -2}, doubled.toArray(), "a replay reads the buffers as they are then");
        }
    }

    @OnEveryDevice
    void hostReadsAndWritesInsideARecordingAreErrors(String api) {
        DeviceBackend be = TestBackends.device(api);
        Tensor t = be.zeros(3).fill(2f);
        IllegalStateException read = assertThrows(IllegalStateException.class,
                () -> be.record(() -> be.unary(UnaryOp.EXP, t).toArray()));
        assertTrue(read.getMessage().startsWith("a host read while recording on " + api), read.getMessage());
        assertTrue(read.getMessage().contains("keep host reads and writes outside the recorded code"), read.getMessage());
        IllegalStateException write = assertThrows(IllegalStateException.class,
                () -> be.record(() -> t.copyFrom(new float[] {1, 2, 3})));
        assertTrue(write.getMessage().startsWith("a host write while recording on " + api), write.getMessage());
        IllegalStateException nested = assertThrows(IllegalStateException.class,
                () -> be.record(() -> be.record(() -> t.fill(1f))));
        assertTrue(nested.getMessage().contains("recordings do not nest"), nested.getMessage());
        // the device works as before, eagerly and recording
        assertArrayEquals(new float[] {2, 2, 2}, t.toArray());
        try (DeviceGraph<Tensor> g = be.record(() -> be.binary(BinaryOp.ADD, t, 1f))) {
            g.replay();
            assertArrayEquals(new float[] {3, 3, 3}, g.result().toArray());
        }
    }

    @OnEveryDevice
    void theBuffersOfARecordingStayOutOfThePoolUntilItCloses(String api) {
        DeviceBackend be = TestBackends.device(api);
        int n = 3000; // a size class of its own among these tests (4096 floats)
        Tensor in = be.zeros(n).fill(1f);
        Set<Device.Buffer> recorded = new HashSet<>();
        DeviceGraph<Tensor> g = be.record(() -> {
            Tensor kept;
            try (Backend.Reclaim scope = be.reclaim()) {
                Tensor a = be.unary(UnaryOp.EXP, in), b = be.binary(BinaryOp.ADD, a, 1f), c = be.binary(BinaryOp.MUL, b, a);
                kept = be.binary(BinaryOp.SUB, c, b);
                for (Tensor t : List.of(a, b, c, kept)) {
                    recorded.add(be.buffer(t));
                }
            }
            return kept;
        });
        assertEquals(4, recorded.size());
        List<Tensor> taken = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            Tensor t = be.zeros(n);
            taken.add(t);
            assertFalse(recorded.contains(be.buffer(t)), "the pool handed out a buffer of a live recording");
        }
        System.gc(); // the temporaries are unreachable: their cleaners run, and still the buffers stay with the graph
        for (int i = 0; i < 16; i++) {
            assertFalse(recorded.contains(be.buffer(be.zeros(n))), "the pool handed out a buffer of a live recording");
        }
        g.replay();
        float e = (float) Math.E;
        assertEquals((e + 1) * e - (e + 1), g.result().get(17), 1e-5f);
        g.close();
        Set<Device.Buffer> next = new HashSet<>();
        for (int i = 0; i < 256; i++) { // more than the free buffers of this size: the pool hands out all it has
            next.add(be.buffer(be.zeros(n)));
        }
        java.lang.ref.Reference.reachabilityFence(taken); // the buffers taken above stay out of the pool until here
        assertTrue(next.containsAll(recorded), "closing the graph returned its buffers to the pool");
        IllegalStateException stale = assertThrows(IllegalStateException.class, () -> g.result().toArray());
        assertTrue(stale.getMessage().contains("after that graph closed"), stale.getMessage());
        assertThrows(IllegalStateException.class, g::replay);
    }
}
