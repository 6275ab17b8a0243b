package org.aiwae.engine.backend;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-threaded float32 matrix product on the Vector API: {@code C (+)= A B}.
 *
 * <p>Layout (GotoBLAS/BLIS): B is packed once into column panels of {@link #NR} = 2 vectors
 * ({@link Packed}; the fused decoder packs its weights when they change, {@link CpuBackend#matmul} per
 * call); A is read where it is when its rows are contiguous (the micro-kernel broadcasts from MR row
 * pointers, so packing it would only copy), else copied per block of {@link #MC} rows and {@link #KC} columns
 * into rows of MR-row micro-panels (96 KiB, in L2; missing rows zero); the micro-kernel keeps an MR x 2-vector
 * block of C in registers (AVX2, 16 registers: MR = 4, 8 accumulators, since with 12 C2 spills and runs at
 * half the speed; AVX-512, 32 registers: MR = 8, 16 accumulators) and walks one B micro-panel ({@code KC x NR} floats, 16 KiB at 8 lanes, in L1) down all micro-panels
 * of the A block. Every index in the inner loop is a constant stride from the loop counter, so C2 hoists
 * all bounds checks out of it.
 *
 * <p>Determinism: every element of C is one chain of fused multiply-adds over p = 0..k-1 in order,
 * {@code c = fma(A(i,p), B[p,j], c)}, starting from 0 (or from C when accumulating); storing C between
 * k-blocks and reloading it is exact. So the bits do not depend on the blocking, the vector width, the
 * row range a thread is given or which kernel (full or edge) computes the element ({@code MatmulTest}
 * compares with the scalar chain).
 */
public final class Gemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();
    /**
     * Rows of the register block: 8 with 32 vector registers (AVX-512: 16 accumulators, 2 B vectors and a
     * broadcast fit), 4 with 16 (AVX2: 8 accumulators; 12 spill).
     */
    static final int MR = V >= 16 ? 8 : 4;
    /** Columns of the register block and width of a packed B panel. */
    static final int NR = 2 * V;
    /** Block of the inner dimension. */
    static final int KC = 256;
    /** Rows of A packed at a time (a multiple of MR): {@code MC x KC} floats, 96 KiB, stay in L2. */
    static final int MC = 96;

    private Gemm() {}

    /**
     * B {@code [k, n]} packed in panels of {@link #NR} columns: element {@code B[p, j]} is at
     * {@code (j / NR) * k * NR + p * NR + j % NR}; the last panel is padded with zeros.
     */
    public record Packed(float[] data, int k, int n) {
        public Packed {
            if (data.length < panels(n) * k * NR) {
                throw new IllegalArgumentException("Gemm.Packed: " + data.length + " floats for " + k + "x" + n);
            }
        }

        /** A buffer for a {@code k x n} matrix. */
        public static Packed allocate(int k, int n) {
            return new Packed(new float[panels(n) * k * NR], k, n);
        }

        private static int panels(int n) {
            return (n + NR - 1) / NR;
        }

        /** Packs the row-major {@code B[p, j] = src[so + p * ld + j]} into this buffer (panels split over the threads). */
        public Packed fill(float[] src, int so, int ld) {
            forPanels((j0, w, base) -> {
                for (int p = 0; p < k; p++) {
                    System.arraycopy(src, so + p * ld + j0, data, base + p * NR, w);
                }
            });
            return this;
        }

        /** Packs {@code B = W^T}, i.e. {@code B[p, j] = W[j, p] = src[so + j * ld + p]} (a weight {@code [n, k]}). */
        public Packed fillTransposed(float[] src, int so, int ld) {
            forPanels((j0, w, base) -> {
                for (int j = 0; j < w; j++) {
                    for (int p = 0, s = so + (j0 + j) * ld; p < k; p++) {
                        data[base + p * NR + j] = src[s + p];
                    }
                }
            });
            return this;
        }

        /** A panel's first column, width and offset in {@link #data}. */
        private interface PanelBody {
            void run(int j0, int width, int base);
        }

        /** Each panel once, whole panels per thread (a copy: the bits do not depend on the split). */
        private void forPanels(PanelBody body) {
            Parallel.forRange(panels(n), 1, Math.max(1, (1 << 15) / Math.max(1, k * NR)), (from, to) -> {
                for (int jp = from; jp < to; jp++) {
                    int j0 = jp * NR;
                    body.run(j0, Math.min(NR, n - j0), jp * k * NR);
                }
            });
        }

        /** Packs the row-major {@code [k, n]} matrix {@code src}, or {@code src^T} when it is {@code [n, k]}. */
        public static Packed of(float[] src, int so, int k, int n, boolean transposed) {
            Packed p = allocate(k, n);
            return transposed ? p.fillTransposed(src, so, k) : p.fill(src, so, n);
        }
    }

    /** Per-thread work arrays of {@link #multiply}: a block of A micro-panels and an edge block of C. */
    public static final class Scratch {
        final float[] a;
        final float[] c = new float[MR * NR];

        /** Room for products of up to {@code rows} rows of A (any number works) and an inner dimension up to {@code k}. */
        public Scratch(int rows, int k) {
            a = new float[Math.min(MC, (Math.max(rows, 1) + MR - 1) / MR * MR) * Math.min(KC, Math.max(k, 1))];
        }
    }

    /**
     * {@code C[i,j] (+)= sum_p A(i,p) B[p,j]} for i in [0,m), j in [0,b.n()), p in [0,b.k()), where
     * {@code A(i,p) = a[ao + i*ars + p*acs]} and {@code C[i,j] = c[co + i*ldc + j]}.
     */
    public static void multiply(float[] a, int ao, int ars, int acs, Packed b, float[] c, int co, int ldc, int m,
                                boolean accumulate, Scratch s) {
        int n = b.n(), k = b.k();
        if (k == 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    java.util.Arrays.fill(c, co + i * ldc, co + i * ldc + n, 0f);
                }
            }
            return;
        }
        float[] bd = b.data();
        int kcMax = Math.min(KC, k);
        int mcMax = Math.min(MC, s.a.length / kcMax / MR * MR);
        if (mcMax < MR) {
            s = new Scratch(m, k);
            mcMax = Math.min(MC, s.a.length / kcMax / MR * MR);
        }
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            boolean acc = accumulate || pc > 0;
            for (int ic = 0; ic < m; ic += mcMax) {
                int mc = Math.min(mcMax, m - ic);
                for (int i = 0; i < mc; i += MR) {
                    if (!direct(acs, Math.min(MR, mc - i))) {
                        packA(a, ao + (ic + i) * ars + pc * acs, ars, acs, Math.min(MR, mc - i), kc, s.a, i * kc);
                    }
                }
                for (int j = 0; j < n; j += NR) {
                    int bo = (j / NR) * k * NR + pc * NR;
                    int cols = Math.min(NR, n - j);
                    for (int i = 0; i < mc; i += MR) {
                        int rows = Math.min(MR, mc - i);
                        int ci = co + (ic + i) * ldc + j;
                        // A's rows where they are (unit column stride, a whole block), else the packed copy
                        boolean direct = direct(acs, rows);
                        float[] ap = direct ? a : s.a;
                        int aOff = direct ? ao + (ic + i) * ars + pc : i * kc, lda = direct ? ars : kc;
                        if (rows == MR && cols == NR) {
                            full(ap, aOff, lda, bd, bo, c, ci, ldc, kc, acc);
                        } else if (rows == MR && cols == V) {
                            half(ap, aOff, lda, bd, bo, c, ci, ldc, kc, acc);
                        } else {
                            edge(s, ap, aOff, lda, bd, bo, c, ci, ldc, kc, acc, rows, cols);
                        }
                    }
                }
            }
        }
    }

    /** Whether a block of {@code rows} rows of A is read in place: its rows are contiguous and it has all MR of them. */
    private static boolean direct(int acs, int rows) {
        return acs == 1 && rows == MR;
    }

    /** {@code A(i, p)} for {@code i < rows, p < kc} into {@code dst[d0 ..]} as rows {@code [MR, kc]}, missing rows zero. */
    private static void packA(float[] a, int ao, int ars, int acs, int rows, int kc, float[] dst, int d0) {
        for (int r = 0; r < MR; r++) {
            int d = d0 + r * kc;
            if (r >= rows) {
                java.util.Arrays.fill(dst, d, d + kc, 0f);
            } else if (acs == 1) {
                System.arraycopy(a, ao + r * ars, dst, d, kc);
            } else {
                for (int p = 0, src = ao + r * ars; p < kc; p++, src += acs) {
                    dst[d + p] = a[src];
                }
            }
        }
    }

    /** A partial block: computed in full on a copy of C, then the valid part copied back. */
    private static void edge(Scratch s, float[] a, int ao, int lda, float[] b, int bo, float[] c, int ci, int ldc, int kc, boolean acc,
                             int rows, int cols) {
        float[] t = s.c;
        if (acc) {
            java.util.Arrays.fill(t, 0f);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(c, ci + r * ldc, t, r * NR, cols);
            }
        }
        if (cols <= V) {
            half(a, ao, lda, b, bo, t, 0, NR, kc, acc);
        } else {
            full(a, ao, lda, b, bo, t, 0, NR, kc, acc);
        }
        for (int r = 0; r < rows; r++) {
            System.arraycopy(t, r * NR, c, ci + r * ldc, cols);
        }
    }

    /** The MR x 2-vector register block (MR is a constant: C2 keeps one branch). */
    private static void full(float[] a, int ao, int lda, float[] b, int bo, float[] c, int co, int ldc, int kc, boolean acc) {
        if (MR == 8) {
            kernel8(a, ao, lda, b, bo, c, co, ldc, kc, acc);
        } else {
            kernel(a, ao, lda, b, bo, c, co, ldc, kc, acc);
        }
    }

    /** The MR x 1-vector block. */
    private static void half(float[] a, int ao, int lda, float[] b, int bo, float[] c, int co, int ldc, int kc, boolean acc) {
        kernelHalf(a, ao, lda, b, bo, c, co, ldc, kc, acc);
        if (MR == 8) {
            kernelHalf(a, ao + 4 * lda, lda, b, bo, c, co + 4 * ldc, ldc, kc, acc);
        }
    }

    /**
     * The 8 x 2-vector register block (32 vector registers): {@code C[0..8, 0..NR) (+)= A B} over kc steps,
     * row r of A at {@code a[ao + r * lda ..]}.
     */
    private static void kernel8(float[] a, int ao, int lda, float[] b, int bo, float[] c, int co, int ldc, int kc, boolean acc) {
        int a0 = ao, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda, a6 = a5 + lda, a7 = a6 + lda;
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (acc) {
            c00 = FloatVector.fromArray(S, c, co);
            c01 = FloatVector.fromArray(S, c, co + V);
            c10 = FloatVector.fromArray(S, c, co + ldc);
            c11 = FloatVector.fromArray(S, c, co + ldc + V);
            c20 = FloatVector.fromArray(S, c, co + 2 * ldc);
            c21 = FloatVector.fromArray(S, c, co + 2 * ldc + V);
            c30 = FloatVector.fromArray(S, c, co + 3 * ldc);
            c31 = FloatVector.fromArray(S, c, co + 3 * ldc + V);
            c40 = FloatVector.fromArray(S, c, co + 4 * ldc);
            c41 = FloatVector.fromArray(S, c, co + 4 * ldc + V);
            c50 = FloatVector.fromArray(S, c, co + 5 * ldc);
            c51 = FloatVector.fromArray(S, c, co + 5 * ldc + V);
            c60 = FloatVector.fromArray(S, c, co + 6 * ldc);
            c61 = FloatVector.fromArray(S, c, co + 6 * ldc + V);
            c70 = FloatVector.fromArray(S, c, co + 7 * ldc);
            c71 = FloatVector.fromArray(S, c, co + 7 * ldc + V);
        } else {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = FloatVector.zero(S);
            c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = FloatVector.zero(S);
        }
        for (int p = 0; p < kc; p++) {
            int bp = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + V);
            FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, a[a1 + p]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, a[a2 + p]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, a[a3 + p]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(S, a[a4 + p]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(S, a[a5 + p]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
            x = FloatVector.broadcast(S, a[a6 + p]);
            c60 = b0.fma(x, c60);
            c61 = b1.fma(x, c61);
            x = FloatVector.broadcast(S, a[a7 + p]);
            c70 = b0.fma(x, c70);
            c71 = b1.fma(x, c71);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + V);
        c10.intoArray(c, co + ldc);
        c11.intoArray(c, co + ldc + V);
        c20.intoArray(c, co + 2 * ldc);
        c21.intoArray(c, co + 2 * ldc + V);
        c30.intoArray(c, co + 3 * ldc);
        c31.intoArray(c, co + 3 * ldc + V);
        c40.intoArray(c, co + 4 * ldc);
        c41.intoArray(c, co + 4 * ldc + V);
        c50.intoArray(c, co + 5 * ldc);
        c51.intoArray(c, co + 5 * ldc + V);
        c60.intoArray(c, co + 6 * ldc);
        c61.intoArray(c, co + 6 * ldc + V);
        c70.intoArray(c, co + 7 * ldc);
        c71.intoArray(c, co + 7 * ldc + V);
    }

    /** The 4 x 2-vector register block: {@code C[0..4, 0..NR) (+)= A B} over kc steps, row r of A at {@code a[ao + r * lda ..]}. */
    private static void kernel(float[] a, int ao, int lda, float[] b, int bo, float[] c, int co, int ldc, int kc, boolean acc) {
        int a0 = ao, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31;
        if (acc) {
            c00 = FloatVector.fromArray(S, c, co);
            c01 = FloatVector.fromArray(S, c, co + V);
            c10 = FloatVector.fromArray(S, c, co + ldc);
            c11 = FloatVector.fromArray(S, c, co + ldc + V);
            c20 = FloatVector.fromArray(S, c, co + 2 * ldc);
            c21 = FloatVector.fromArray(S, c, co + 2 * ldc + V);
            c30 = FloatVector.fromArray(S, c, co + 3 * ldc);
            c31 = FloatVector.fromArray(S, c, co + 3 * ldc + V);
        } else {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = FloatVector.zero(S);
        }
        for (int p = 0; p < kc; p++) {
            int bp = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + V);
            FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, a[a1 + p]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, a[a2 + p]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, a[a3 + p]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + V);
        c10.intoArray(c, co + ldc);
        c11.intoArray(c, co + ldc + V);
        c20.intoArray(c, co + 2 * ldc);
        c21.intoArray(c, co + 2 * ldc + V);
        c30.intoArray(c, co + 3 * ldc);
        c31.intoArray(c, co + 3 * ldc + V);
    }

    /** 4 rows by one vector, for a last panel at most V wide; row r of A at {@code a[ao + r * lda ..]}. */
    private static void kernelHalf(float[] a, int ao, int lda, float[] b, int bo, float[] c, int co, int ldc, int kc, boolean acc) {
        int a0 = ao, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        FloatVector c0, c1, c2, c3;
        if (acc) {
            c0 = FloatVector.fromArray(S, c, co);
            c1 = FloatVector.fromArray(S, c, co + ldc);
            c2 = FloatVector.fromArray(S, c, co + 2 * ldc);
            c3 = FloatVector.fromArray(S, c, co + 3 * ldc);
        } else {
            c0 = c1 = c2 = c3 = FloatVector.zero(S);
        }
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bo + p * NR);
            c0 = b0.fma(FloatVector.broadcast(S, a[a0 + p]), c0);
            c1 = b0.fma(FloatVector.broadcast(S, a[a1 + p]), c1);
            c2 = b0.fma(FloatVector.broadcast(S, a[a2 + p]), c2);
            c3 = b0.fma(FloatVector.broadcast(S, a[a3 + p]), c3);
        }
        c0.intoArray(c, co);
        c1.intoArray(c, co + ldc);
        c2.intoArray(c, co + 2 * ldc);
        c3.intoArray(c, co + 3 * ldc);
    }

    /** Writes {@code src^T} ({@code rows x cols} with leading dimension {@code ld}) into {@code dst} as {@code cols x rows}. */
    public static void transpose(float[] src, int so, int ld, int rows, int cols, float[] dst, int dOff) {
        final int t = 32;
        for (int i0 = 0; i0 < rows; i0 += t) {
            for (int j0 = 0; j0 < cols; j0 += t) {
                int i1 = Math.min(rows, i0 + t), j1 = Math.min(cols, j0 + t);
                for (int i = i0; i < i1; i++) {
                    for (int j = j0; j < j1; j++) {
                        dst[dOff + j * rows + i] = src[so + i * ld + j];
                    }
                }
            }
        }
    }
}
