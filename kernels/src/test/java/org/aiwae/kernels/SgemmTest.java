package org.aiwae.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.aiwae.engine.backend.Gemm;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.kernels.Kernels.Epilogue;
import org.aiwae.kernels.Kernels.Matrix;

/**
 * The device {@code sgemm} (register-blocked, 64 x 64 outputs per group) against the CPU's {@link Gemm}, bit for bit:
 * both compute each element as one chain of fused multiply-adds over k in order, from 0 or from C
 * ({@code MatmulTest} checks that contract of Gemm against {@code Math.fma}; a device's fmaf is the IEEE fma, as
 * OpenCL requires it correctly rounded and CUDA's is the hardware instruction), so any slip in the tiling (a k
 * missed, doubled or out of order, a wrong offset, leading dimension or transpose, a padding word read as data)
 * changes bits. Every case also fills the words of A, B and C that the call must not read or write with NaN,
 * so a stray read poisons a result and a stray write shows in C.
 *
 * <p>The epilogues are computed after the product as the kernel does: {@code v + bias}, {@code v * fma(-h, h, 1)},
 * {@code v - aux} exactly. {@code tanh(v + bias)} is the device's tanhf, not Java's: it is compared with
 * {@code StrictMath.tanh} rounded to float within {@link #TANH_ULPS} ulp (CUDA documents tanhf to 2 ulp; OpenCL
 * allows 5 ulp in full profile).
 */
class SgemmTest {
    /** OpenCL's bound for tanh (its full profile); CUDA's tanhf is within 2. */
    static final int TANH_ULPS = 5;

    /**
     * One call: op(A) [m, k], op(B) [k, n], C [m, n]; each operand at an offset and with a leading dimension
     * {@code pad} wider than its stored rows.
     */
    record Case(String name, int m, int n, int k, boolean ta, boolean tb, int off, int pad, boolean accumulate, Epilogue epilogue) {
        static Case plain(String name, int m, int n, int k, boolean ta, boolean tb, Epilogue epilogue) {
            return new Case(name, m, n, k, ta, tb, 0, 0, false, epilogue);
        }

        int lda() {
            return (ta ? m : k) + pad;
        }

        int ldb() {
            return (tb ? k : n) + pad;
        }

        int ldc() {
            return n + pad;
        }

        @Override
        public String toString() {
            return name + " " + m + "x" + n + "x" + k + (ta ? " A^T" : "") + (tb ? " B^T" : "") + (off > 0 ? " off " + off : "")
                    + (pad > 0 ? " ld+" + pad : "") + (accumulate ? " +=" : "") + " " + epilogue;
        }
    }

    /** A matrix of {@code rows x cols} stored from {@code off} with leading dimension {@code ld}; every other word NaN. */
    private static float[] stored(RandomStream rng, int rows, int cols, int off, int ld) {
        float[] s = new float[off + Math.max(0, (rows - 1) * ld + cols) + 1];
        Arrays.fill(s, Float.NaN);
        float[] v = rng.normal(Math.max(1, rows * cols)).data();
        for (int r = 0; r < rows; r++) {
            System.arraycopy(v, r * cols, s, off + r * ld, cols);
        }
        return s;
    }

    /** The model's products (rows = K samples x batch 128 = 640 for the decoder's leapfrog evaluations) and awkward ones. */
    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // the decoder 50 -> 200 -> 200 -> 784 as DeviceDecoderKernel runs it: forward x W^T with the bias (and tanh),
        // backward g W through tanh, the last to d/dz with the prior's - z
        int[] decoder = {50, 200, 200, 784};
        for (int l = 0; l + 1 < decoder.length; l++) {
            boolean logits = l + 2 == decoder.length;
            c.add(Case.plain("decoder layer " + (l + 1), 640, decoder[l + 1], decoder[l], false, true, logits ? Epilogue.BIAS : Epilogue.BIAS_TANH));
            c.add(Case.plain("decoder back " + (l + 1), 640, decoder[l], decoder[l + 1], false, false, l == 0 ? Epilogue.SUB_AUX : Epilogue.TANH_GRAD));
        }
        // the encoder 784 -> 200 -> 200 -> 2x50 on batches of 128 and 20, and the updates' weight gradients g^T x
        for (int[] mnk : new int[][] {{128, 200, 784}, {128, 100, 200}, {20, 200, 784}}) {
            c.add(Case.plain("encoder layer", mnk[0], mnk[1], mnk[2], false, true, Epilogue.NONE));
        }
        for (int[] mnk : new int[][] {{784, 200, 640}, {200, 784, 640}, {200, 50, 640}}) {
            c.add(Case.plain("weight gradient", mnk[0], mnk[1], mnk[2], true, false, Epilogue.NONE));
        }
        c.add(new Case("weight gradient accumulated", 200, 200, 128, true, false, 0, 0, true, Epilogue.NONE));
        // awkward sizes: below, at and across the 64 x 64 block and the 16-deep k slices, in every transposition
        int[][] shapes = {{1, 1, 1}, {17, 33, 5}, {65, 130, 257}, {64, 64, 16}, {63, 65, 17}, {3, 200, 0}, {130, 1, 33}};
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                c.add(Case.plain("awkward", s[0], s[1], s[2], ta, tb, Epilogue.NONE));
                c.add(new Case("awkward", s[0], s[1], s[2], ta, tb, 7 + t, 3, t % 2 == 0, Epilogue.values()[1 + t]));
            }
        }
        for (Epilogue e : Epilogue.values()) {
            c.add(new Case("offsets", 70, 90, 40, false, true, 13, 5, true, e));
            c.add(new Case("offsets", 70, 90, 40, true, false, 2, 1, false, e));
        }
        c.add(Case.plain("no columns", 5, 0, 4, false, false, Epilogue.NONE));
        return c;
    }

    @OnEveryDevice
    void everyProductIsTheCpusFmaChainBitForBit(String api) {
        DeviceBackend backend = TestBackends.device(api);
        RandomStream rng = new RandomStream(21);
        TanhError worst = new TanhError(0, "no tanh epilogue");
        for (Case c : cases()) {
            TanhError e = check(backend, rng, c);
            worst = e.ulps() > worst.ulps() ? e : worst;
        }
        System.err.println("SgemmTest " + api + ": tanh epilogue within " + worst.ulps() + " ulp of StrictMath.tanh");
        assertTrue(worst.ulps() <= TANH_ULPS, "the tanh epilogue is " + worst.ulps() + " ulp off at " + worst.at());
    }

    /** The largest difference of the tanh epilogue from {@code StrictMath.tanh} in a case, in ulp, and where it is. */
    private record TanhError(int ulps, String at) {}

    /** Runs one case on the device and compares every word but the tanh epilogue's, bit for bit; returns its largest error. */
    private static TanhError check(DeviceBackend backend, RandomStream rng, Case c) {
        int m = c.m(), n = c.n(), k = c.k();
        float[] a = stored(rng, c.ta() ? k : m, c.ta() ? m : k, c.off(), c.lda());
        float[] b = stored(rng, c.tb() ? n : k, c.tb() ? k : n, c.off(), c.ldb());
        float[] c0 = stored(rng, m, n, c.off(), c.ldc());
        float[] bias = rng.normal(Math.max(1, n)).data();
        // aux [m, ldc] from its element 0: a tanh layer's output for TANH_GRAD (in (-1, 1)), z for SUB_AUX
        float[] aux = rng.normal(Math.max(1, m * c.ldc())).data();
        if (c.epilogue() == Epilogue.TANH_GRAD) {
            for (int i = 0; i < aux.length; i++) {
                aux[i] = (float) Math.tanh(aux[i]);
            }
        }

        // the reference: Gemm's chain (into a copy of C), then the epilogue in Java
        float[] want = c0.clone();
        if (m > 0 && n > 0) {
            Gemm.Packed pb = Gemm.Packed.allocate(k, n);
            if (c.tb()) {
                pb.fillTransposed(b, c.off(), c.ldb());
            } else {
                pb.fill(b, c.off(), c.ldb());
            }
            Gemm.multiply(a, c.off(), c.ta() ? 1 : c.lda(), c.ta() ? c.lda() : 1, pb, want, c.off(), c.ldc(), m, c.accumulate(),
                    new Gemm.Scratch(m, k));
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int at = c.off() + i * c.ldc() + j;
                float v = want[at];
                want[at] = switch (c.epilogue()) {
                    case NONE -> v;
                    case BIAS_TANH -> (float) StrictMath.tanh(v + bias[j]);
                    case BIAS -> v + bias[j];
                    case TANH_GRAD -> v * Math.fma(-aux[i * c.ldc() + j], aux[i * c.ldc() + j], 1f);
                    case SUB_AUX -> v - aux[i * c.ldc() + j];
                };
            }
        }

        Device d = backend.device();
        Device.Buffer da = upload(d, a), db = upload(d, b), dc = upload(d, c0), dbias = upload(d, bias), daux = upload(d, aux);
        float[] got = new float[c0.length];
        try {
            backend.kernels().sgemm(m, n, k, new Matrix(da, c.off(), c.lda(), c.ta()), new Matrix(db, c.off(), c.ldb(), c.tb()),
                    new Matrix(dc, c.off(), c.ldc(), false), c.accumulate(), c.epilogue(), dbias, daux);
            d.read(dc, got, 0, got.length);
        } finally {
            for (Device.Buffer x : List.of(da, db, dc, dbias, daux)) {
                d.free(x);
            }
        }

        TanhError worst = new TanhError(0, c.toString());
        for (int i = 0; i < got.length; i++) {
            int r = i - c.off();
            boolean output = n > 0 && r >= 0 && r / c.ldc() < m && r % c.ldc() < n;
            if (output && c.epilogue() == Epilogue.BIAS_TANH) {
                int ulps = Math.abs(Float.floatToIntBits(want[i]) - Float.floatToIntBits(got[i])); // same sign: tanh keeps it
                if (ulps > worst.ulps()) {
                    worst = new TanhError(ulps, c + " at " + r / c.ldc() + "," + r % c.ldc() + ": want " + want[i] + ", got " + got[i]);
                }
            } else if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(c + (output ? " at " + r / c.ldc() + "," + r % c.ldc() : " wrote outside C at word " + i)
                        + ": want " + want[i] + ", got " + got[i]);
            }
        }
        return worst;
    }

    private static Device.Buffer upload(Device d, float[] v) {
        Device.Buffer b = d.alloc(v.length);
        d.write(b, v, 0, v.length);
        return b;
    }

    /**
     * A chain whose products all round to -0 ends at -0 in k that is not a multiple of the 16-deep slice: the
     * slices' zero padding is not fed to the chain (fmaf(0, 0, -0) would be +0).
     */
    @OnEveryDevice
    void aChainOfNegativeZeroesStaysNegativeZero(String api) {
        DeviceBackend backend = TestBackends.device(api);
        Device d = backend.device();
        int m = 3, n = 5, k = 7;
        float[] a = new float[m * k], b = new float[k * n];
        Arrays.fill(a, -1e-30f);
        Arrays.fill(b, 1e-30f);
        Device.Buffer da = upload(d, a), db = upload(d, b), dc = upload(d, new float[m * n]);
        float[] got = new float[m * n];
        try {
            backend.kernels().sgemm(m, n, k, Matrix.of(da, k), Matrix.of(db, n), Matrix.of(dc, n), false, Epilogue.NONE, null, null);
            d.read(dc, got, 0, got.length);
        } finally {
            for (Device.Buffer x : List.of(da, db, dc)) {
                d.free(x);
            }
        }
        for (float v : got) {
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(v), "fma chain of -1e-60 products: " + v);
        }
    }
}
