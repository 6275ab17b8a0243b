package org.aiwae.kernels;

import static org.aiwae.kernels.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.CpuBackend;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;

/**
 * Every device kernel against the CPU backend, on the model's shapes and on sizes that are not
 * multiples of sgemm's 64x64 block. OpenCL runs wherever an OpenCL runtime is installed (PoCL in CI,
 * where {@code AIWAE_REQUIRE_OPENCL=1} turns a missing runtime into a failure); CUDA runs where an
 * NVIDIA GPU and driver are present and is skipped with the reason elsewhere.
 *
 * <p>Tolerances (float32): products are the same bits as the CPU's (both are one fma chain per element in
 * k order; {@code SgemmTest} checks offsets, leading dimensions and the epilogues); the fused decoder's
 * log p sums 784 terms in another order than the CPU, so it gets {@code 1e-5 |log p| + 1e-3}, and its
 * gradient (through the device's tanhf and expf) {@code 1e-4 (1 + |cpu|)}.
 */
class DeviceKernelsTest {
    /**
     * The backend's matmul on tensors maps each transposition and accumulation onto sgemm's operands: the CPU's bits.
     * Sizes within and across sgemm's blocks, one row, one column; the model's products are {@code SgemmTest}'s.
     */
    @OnEveryDevice
    void matmulIsTheCpusBitsInEveryTransposition(String api) {
        DeviceBackend dev = TestBackends.device(api);
        RandomStream rng = new RandomStream(3);
        int[][] shapes = {{37, 53, 19}, {70, 65, 130}, {1, 17, 5}, {33, 1, 70}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                Tensor a = ta ? rng.normal(k, m) : rng.normal(m, k);
                Tensor b = tb ? rng.normal(n, k) : rng.normal(k, n);
                Tensor c0 = rng.normal(m, n);
                Tensor cpu = c0.copy(), gpu = c0.to(dev);
                boolean acc = t == 3;
                CpuBackend.INSTANCE.matmul(a, ta, b, tb, cpu, acc);
                dev.matmul(a.to(dev), ta, b.to(dev), tb, gpu, acc);
                float[] want = cpu.toArray(), got = gpu.toArray();
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                            api + " " + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " acc=" + acc + " [" + i + "]: cpu " + want[i] + " device " + got[i]);
                }
            }
        }
    }

    static TanhMlpDecoder decoder(RandomStream rng, int latent, int hidden, int data) {
        List<Tensor> w = List.of(scaled(rng.normal(hidden, latent), latent), scaled(rng.normal(hidden, hidden), hidden),
                scaled(rng.normal(data, hidden), hidden));
        List<Tensor> b = List.of(scaled(rng.normal(hidden), 4), scaled(rng.normal(hidden), 4), scaled(rng.normal(data), 4));
        return new TanhMlpDecoder(w, b);
    }

    private static Tensor scaled(Tensor t, int fanIn) {
        float s = (float) (1 / Math.sqrt(fanIn));
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] *= s;
        }
        return t;
    }

    /**
     * The fused decoder's values against the reference's (the CPU's): log p to {@code 1e-5 |log p| + 1e-3} (784 terms
     * summed in another order), the gradient to {@code 1e-4 (1 + |reference|)} (through the device's tanhf and expf).
     */
    private static void assertDecoderClose(Tensor lpWant, Tensor gWant, float[] lp, float[] g, String what) {
        for (int i = 0; i < lp.length; i++) {
            double e = lpWant.get(i);
            assertEquals(e, lp[i], 1e-5 * Math.abs(e) + 1e-3, what + " log p[" + i + "]");
        }
        assertClose(gWant.toArray(), g, 1e-4, what + " d/dz");
    }

    /**
     * The one launch on decoders far from the model's (2 -> 13 -> 13 -> 29 for 7 rows of 3 images, 3 -> 17 -> 17 -> 40
     * for one row) with the weights on the host: the CPU's values, and after an update of the weights and biases and
     * refresh() the updated ones (pixel 0's logit moves by at least 4.5 in every row, so every row's log p moves).
     */
    @OnEveryDevice
    void theOneLaunchTakesOtherShapesAndSeesWeightsRefreshedFromTheHost(String api) {
        DeviceBackend dev = TestBackends.device(api);
        RandomStream rng = new RandomStream(5);
        int[][] cases = {{2, 13, 29, 7, 3}, {3, 17, 40, 1, 1}}; // latent, hidden, data, batch, samples
        for (int[] c : cases) {
            TanhMlpDecoder d = decoder(rng, c[0], c[1], c[2]);
            assertTrue(DeviceDecoderKernel.takesOneLaunch(d), "one launch for " + c[0] + "-" + c[1] + "-" + c[2]);
            int rows = c[3] * c[4];
            Tensor z = rng.normal(rows, c[0]);
            Tensor x = TestData.binary(rng, c[3], c[2], 0.3f);
            Tensor lpCpu = Tensor.zeros(rows), gCpu = Tensor.zeros(rows, c[0]), lpDev = Tensor.zeros(rows), gDev = Tensor.zeros(rows, c[0]);
            try (DecoderKernel cpu = CpuBackend.INSTANCE.decoder(d, rows + 3); DecoderKernel gpu = dev.decoder(d, rows + 3)) {
                String what = api + " decoder " + c[0] + "-" + c[1] + "-" + c[2] + " x" + rows;
                cpu.logJoint(z, x, lpCpu, gCpu);
                gpu.logJoint(z, x, lpDev, gDev);
                assertDecoderClose(lpCpu, gCpu, lpDev.toArray(), gDev.toArray(), what);
                float[] before = lpDev.toArray();
                d.weights().get(2).data()[0] += 0.5f;
                d.biases().get(2).data()[0] += 5f;
                cpu.refresh();
                gpu.refresh();
                cpu.logJoint(z, x, lpCpu, gCpu);
                gpu.logJoint(z, x, lpDev, gDev);
                assertDecoderClose(lpCpu, gCpu, lpDev.toArray(), gDev.toArray(), what + " after refresh");
                for (int i = 0; i < rows; i++) {
                    assertTrue(Math.abs(lpDev.get(i) - before[i]) > 1e-3, what + " log p[" + i + "] did not change with the weight");
                }
            }
        }
    }

    /** The decoder's weights and biases moved to {@code placement}. */
    private static TanhMlpDecoder on(DeviceBackend placement, TanhMlpDecoder d) {
        return new TanhMlpDecoder(d.weights().stream().map(t -> t.to(placement)).toList(), d.biases().stream().map(t -> t.to(placement)).toList());
    }

    /**
     * The one-launch decoder (decoder_rows) against the seven-launch sequence and the CPU on the model's 50 -> 200 -> 200
     * -> 784 for 640 rows (K=5 chains x batch 128) and for 1, 7 and 129 rows (one group, one partial group, 16 groups and
     * a row), row n with data row n mod B: log p with the gradient, log p alone and the gradient alone (the same bits). With
     * the weights, z (a view at an offset), x and the outputs on the device an evaluation is one launch and nothing else,
     * and refresh() is nothing; with host tensors, the same values through the kernel's own buffers.
     */
    @OnEveryDevice
    void oneLaunchDecoderMatchesSevenLaunchesAndTheCpu(String api) {
        DeviceBackend dev = TestBackends.device(api);
        RandomStream rng = new RandomStream(8);
        TanhMlpDecoder host = decoder(rng, 50, 200, 784), placed = on(dev, host);
        int[][] cases = {{640, 128}, {1, 1}, {7, 7}, {129, 43}}; // rows, batch
        try (DecoderKernel cpu = CpuBackend.INSTANCE.decoder(host, 640);
             DeviceDecoderKernel one = new DeviceDecoderKernel(dev.kernels(), placed, 640);
             DeviceDecoderKernel fromHost = new DeviceDecoderKernel(dev.kernels(), host, 640);
             DeviceDecoderKernel seven = new DeviceDecoderKernel(dev.kernels(), host, 640, false)) {
            assertTrue(one.oneLaunch() && fromHost.oneLaunch() && !seven.oneLaunch(), "the model's decoder takes the one launch");
            DeviceWork before = dev.work();
            one.refresh();
            assertEquals(0, dev.work().since(before).ops() + dev.work().since(before).hostWrites(), "refresh with the weights on the device");
            for (int[] c : cases) {
                int rows = c[0], batch = c[1];
                String what = api + " " + rows + " rows, batch " + batch;
                Tensor zAll = rng.normal(rows + 2, 50), z = zAll.rows(2, rows + 2), x = TestData.binary(rng, batch, 784, 0.3f);
                Tensor lpCpu = Tensor.zeros(rows), gCpu = Tensor.zeros(rows, 50);
                cpu.logJoint(z, x, lpCpu, gCpu);
                Tensor lpSeven = Tensor.zeros(rows), gSeven = Tensor.zeros(rows, 50);
                seven.logJoint(z, x, lpSeven, gSeven);
                Tensor lpHost = Tensor.zeros(rows), gHost = Tensor.zeros(rows, 50), gOnlyHost = Tensor.zeros(rows, 50);
                fromHost.logJoint(z, x, lpHost, gHost);
                fromHost.logJoint(z, x, null, gOnlyHost);

                Tensor zd = zAll.to(dev).rows(2, rows + 2), xd = x.to(dev);
                Tensor lpDev = dev.zeros(rows), gDev = dev.zeros(rows, 50), lpOnly = dev.zeros(rows), gOnly = dev.zeros(rows, 50);
                before = dev.work();
                one.logJoint(zd, xd, lpDev, gDev);
                assertOneLaunch(dev.work().since(before), what + ": device work of an evaluation");
                before = dev.work();
                one.logJoint(zd, xd, lpOnly, null);
                assertOneLaunch(dev.work().since(before), what + ": device work of log p alone");
                before = dev.work();
                one.logJoint(zd, xd, null, gOnly);
                assertOneLaunch(dev.work().since(before), what + ": device work of a gradient");

                float[] lp = lpDev.toArray(), g = gDev.toArray();
                assertDecoderClose(lpCpu, gCpu, lp, g, what + " against the cpu");
                assertDecoderClose(lpSeven, gSeven, lp, g, what + " against seven launches");
                assertArrayEquals(lp, lpOnly.toArray(), what + " log p without d/dz");
                assertArrayEquals(lp, lpHost.toArray(), what + " log p from host tensors");
                assertArrayEquals(g, gOnly.toArray(), what + " d/dz without log p");
                assertArrayEquals(g, gHost.toArray(), what + " d/dz from host tensors");
                assertArrayEquals(g, gOnlyHost.toArray(), what + " d/dz without log p from host tensors");
            }
        }
    }

    private static void assertOneLaunch(DeviceWork w, String what) {
        assertEquals(List.of(1L, 0L, 0L, 0L, 0L), List.of(w.launches(), w.copies(), w.fills(), w.hostReads(), w.hostWrites()),
                what + " (launches, copies, fills, host reads, host writes): " + w);
    }

    /** Decoders the one launch does not take run the seven launches, the same values as the CPU. */
    @OnEveryDevice
    void decodersBeyondTheOneLaunchFallBackToSeven(String api) {
        DeviceBackend dev = TestBackends.device(api);
        RandomStream rng = new RandomStream(12);
        TanhMlpDecoder wide = decoder(rng, 20, 400, 30); // (20 + 400 + 800 + 256) x 8 floats: more than a group holds
        TanhMlpDecoder shallow = new TanhMlpDecoder(List.of(scaled(rng.normal(30, 20), 20)), List.of(rng.normal(30)));
        for (TanhMlpDecoder d : List.of(wide, shallow)) {
            assertFalse(DeviceDecoderKernel.takesOneLaunch(d), "one launch for " + d.layers() + " layers");
            Tensor z = rng.normal(12, 20), x = TestData.binary(rng, 4, 30, 0.3f);
            Tensor lpCpu = Tensor.zeros(12), gCpu = Tensor.zeros(12, 20), lpDev = Tensor.zeros(12), gDev = Tensor.zeros(12, 20);
            try (DecoderKernel cpu = CpuBackend.INSTANCE.decoder(d, 12); DecoderKernel gpu = dev.decoder(d, 12)) {
                cpu.logJoint(z, x, lpCpu, gCpu);
                DeviceWork before = dev.work();
                gpu.logJoint(z, x, lpDev, gDev);
                assertEquals(2L * d.layers() + 1, dev.work().since(before).launches(), api + " launches of " + d.layers() + " layers");
            }
            assertDecoderClose(lpCpu, gCpu, lpDev.toArray(), gDev.toArray(), api + " " + d.layers() + " layers");
        }
    }

    /**
     * Per-image streams ({@link ChainNoise.PerGroup}; philox_fill_groups on a device) draw on the device what they draw on
     * the host and advance alike: uniforms bit for bit, normals to float rounding (the device's double log/cos against
     * Java's), each image's values in its own slots, for ids that use all 64 bits.
     */
    @OnEveryDevice
    void perImageStreamsDrawTheHostsNumbers(String api) {
        DeviceBackend dev = TestBackends.device(api);
        long seed = 0x1234_5678_9ABCL;
        long[] ids = {7L << 56 | 3, 7L << 56 | 1L << 48 | 123_456, 5, -1L};
        int chains = 3 * ids.length, dim = 7;
        ChainNoise.PerGroup host = new ChainNoise.PerGroup(seed, ids, 11), there = new ChainNoise.PerGroup(seed, ids, 11);
        for (int round = 0; round < 2; round++) {
            String what = api + " round " + round;
            assertClose(host.momenta(Placement.HOST, chains, dim).toArray(), there.momenta(dev, chains, dim).toArray(), 1e-6, what + " momenta");
            assertArrayEquals(host.uniforms(Placement.HOST, chains).toArray(), there.uniforms(dev, chains).toArray(), what + " uniforms");
            assertEquals(host.position(), there.position(), what + ": both streams advance alike");
        }
    }
}
