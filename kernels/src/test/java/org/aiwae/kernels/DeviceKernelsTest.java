package org.aiwae.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.CpuBackend;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

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
    /** The device backends, opened once per test JVM and skipped with the reason where absent ({@link TestBackends}). */
    static Stream<String> apis() {
        return TestBackends.devices();
    }

    private static DeviceBackend backend(String api) {
        return TestBackends.device(api);
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            double t = tol * (1 + Math.abs(expected[i]));
            assertTrue(Math.abs(expected[i] - actual[i]) <= t,
                    what + "[" + i + "]: cpu " + expected[i] + " device " + actual[i]);
        }
    }

    @ParameterizedTest
    @MethodSource("apis")
    void matmulIsTheCpusBitsInEveryTransposition(String api) {
        DeviceBackend dev = backend(api);
        RandomStream rng = new RandomStream(3);
        int[][] shapes = {{640, 200, 50}, {640, 784, 200}, {200, 784, 640}, {37, 53, 19}, {1, 17, 5}, {33, 1, 70}};
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

    @ParameterizedTest
    @MethodSource("apis")
    void fusedDecoderMatchesTheCpu(String api) {
        DeviceBackend dev = backend(api);
        RandomStream rng = new RandomStream(5);
        int[][] cases = {{50, 200, 784, 128, 5}, {2, 13, 29, 7, 3}, {3, 17, 40, 1, 1}}; // latent, hidden, data, batch, samples
        for (int[] c : cases) {
            TanhMlpDecoder d = decoder(rng, c[0], c[1], c[2]);
            int rows = c[3] * c[4];
            Tensor z = rng.normal(rows, c[0]);
            Tensor x = rng.uniform(c[3], c[2]);
            float[] xd = x.data();
            for (int i = 0; i < xd.length; i++) {
                xd[i] = xd[i] < 0.3f ? 1 : 0;
            }
            Tensor lpCpu = Tensor.zeros(rows), gCpu = Tensor.zeros(rows, c[0]);
            Tensor lpDev = Tensor.zeros(rows), gDev = Tensor.zeros(rows, c[0]), lpOnly = Tensor.zeros(rows);
            try (DecoderKernel cpu = CpuBackend.INSTANCE.decoder(d, rows + 3); DecoderKernel gpu = dev.decoder(d, rows + 3)) {
                cpu.logJoint(z, x, lpCpu, gCpu);
                gpu.logJoint(z, x, lpDev, gDev);
                gpu.logJoint(z, x, lpOnly, null);
                String what = api + " decoder " + c[0] + "-" + c[1] + "-" + c[2] + " x" + rows;
                for (int i = 0; i < rows; i++) {
                    double e = lpCpu.get(i);
                    assertEquals(e, lpDev.get(i), 1e-5 * Math.abs(e) + 1e-3, what + " log p[" + i + "]");
                    assertEquals(lpDev.get(i), lpOnly.get(i), 0.0, what + " log p without the gradient");
                }
                assertClose(gCpu.toArray(), gDev.toArray(), 1e-4, what + " d/dz");
                // a weight update becomes visible after refresh(), as on the CPU
                d.weights().get(2).data()[0] += 0.5f;
                cpu.refresh();
                gpu.refresh();
                cpu.logJoint(z, x, lpCpu, gCpu);
                gpu.logJoint(z, x, lpDev, gDev);
                assertEquals(lpCpu.get(0), lpDev.get(0), 1e-5 * Math.abs(lpCpu.get(0)) + 1e-3, what + " after refresh");
            }
        }
        assertNotNull(dev.device().name());
    }

    /**
     * philox_fill_groups draws what ChainNoise.PerGroup draws on the host: uniforms bit for bit, normals
     * to float rounding (the device's double log/cos against Java's), each image's values in its own slots.
     */
    @ParameterizedTest
    @MethodSource("apis")
    void perImageNoiseMatchesTheHost(String api) {
        Device d = backend(api).device();
        long seed = 0x1234_5678_9ABCL;
        long[] ids = {7L << 56 | 3, 7L << 56 | 1L << 48 | 123_456, 5, -1L};
        int per = 3, dim = 7, groups = ids.length;
        float[] words = new float[2 * groups];
        for (int g = 0; g < groups; g++) {
            words[2 * g] = Float.intBitsToFloat((int) ids[g]);
            words[2 * g + 1] = Float.intBitsToFloat((int) (ids[g] >>> 32));
        }
        Device.Buffer idBuf = d.alloc(words.length), out = d.alloc((long) per * groups * dim);
        try {
            d.write(idBuf, words, 0, words.length);
            ChainNoise.PerGroup host = new ChainNoise.PerGroup(seed, ids, 11);
            for (boolean normal : new boolean[] {true, false, true}) {
                int n = normal ? dim : 1, blocks = ChainNoise.PerGroup.blocks(per * n);
                long position = host.position();
                float[] expected = new float[per * groups * n], actual = new float[expected.length];
                if (normal) {
                    host.normal(expected, per, n);
                } else {
                    host.uniform(expected, per, n);
                }
                backend(api).kernels().philoxFillGroups(groups, blocks, per, n, seed, idBuf, position, normal, out);
                d.read(out, actual, 0, actual.length);
                for (int i = 0; i < expected.length; i++) {
                    if (normal) {
                        assertEquals(expected[i], actual[i], 1e-6 * (1 + Math.abs(expected[i])), "normal " + i);
                    } else {
                        assertEquals(expected[i], actual[i], "uniform " + i);
                    }
                }
            }
        } finally {
            d.free(idBuf);
            d.free(out);
        }
    }
}
