package org.aiwae.engine.backend;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-threaded float32 matrix product on the Vector API: {@code C (+)= A B} with B row-major.
 *
 * <p>A is addressed through two strides, so the same kernel serves {@code A} and {@code A^T}
 * without a copy. The micro-kernel keeps a 4-row by 2-vector block of C in registers and streams
 * one row of B per step of the inner dimension; rows of C are blocked so a panel of B stays in
 * cache while a block of A is reused. Callers split rows of C across threads.
 */
public final class Gemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();
    private static final int ROW_BLOCK = 64;

    private Gemm() {}

    /**
     * {@code C[i,j] (+)= sum_p A(i,p) B[p,j]} for i in [0,m), j in [0,n), p in [0,k), where
     * {@code A(i,p) = a[ao + i*ars + p*acs]}, {@code B[p,j] = b[bo + p*ldb + j]} and
     * {@code C[i,j] = c[co + i*ldc + j]}.
     */
    public static void multiply(float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                                float[] c, int co, int ldc, int m, int n, int k, boolean accumulate) {
        for (int i0 = 0; i0 < m; i0 += ROW_BLOCK) {
            int i1 = Math.min(m, i0 + ROW_BLOCK);
            int j = 0;
            for (; j + 2 * V <= n; j += 2 * V) {
                int i = i0;
                for (; i + 4 <= i1; i += 4) {
                    block4x2(a, ao + i * ars, ars, acs, b, bo + j, ldb, c, co + i * ldc + j, ldc, k, accumulate);
                }
                for (; i < i1; i++) {
                    row(a, ao + i * ars, acs, b, bo + j, ldb, c, co + i * ldc + j, k, 2 * V, accumulate);
                }
            }
            for (; j < n; j += V) {
                int width = Math.min(V, n - j);
                int i = i0;
                for (; i + 4 <= i1; i += 4) {
                    block4x1(a, ao + i * ars, ars, acs, b, bo + j, ldb, c, co + i * ldc + j, ldc, k, width, accumulate);
                }
                for (; i < i1; i++) {
                    row(a, ao + i * ars, acs, b, bo + j, ldb, c, co + i * ldc + j, k, width, accumulate);
                }
            }
        }
    }

    private static void block4x2(float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                                 float[] c, int co, int ldc, int k, boolean acc) {
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
        int a0 = ao, a1 = ao + ars, a2 = ao + 2 * ars, a3 = ao + 3 * ars;
        for (int p = 0, bp = bo, ap = 0; p < k; p++, bp += ldb, ap += acs) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + V);
            FloatVector x = FloatVector.broadcast(S, a[a0 + ap]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, a[a1 + ap]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, a[a2 + ap]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, a[a3 + ap]);
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

    private static void block4x1(float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb,
                                 float[] c, int co, int ldc, int k, int width, boolean acc) {
        VectorMask<Float> mask = S.indexInRange(0, width);
        FloatVector c0, c1, c2, c3;
        if (acc) {
            c0 = FloatVector.fromArray(S, c, co, mask);
            c1 = FloatVector.fromArray(S, c, co + ldc, mask);
            c2 = FloatVector.fromArray(S, c, co + 2 * ldc, mask);
            c3 = FloatVector.fromArray(S, c, co + 3 * ldc, mask);
        } else {
            c0 = c1 = c2 = c3 = FloatVector.zero(S);
        }
        int a0 = ao, a1 = ao + ars, a2 = ao + 2 * ars, a3 = ao + 3 * ars;
        boolean full = width == V;
        for (int p = 0, bp = bo, ap = 0; p < k; p++, bp += ldb, ap += acs) {
            FloatVector b0 = full ? FloatVector.fromArray(S, b, bp) : FloatVector.fromArray(S, b, bp, mask);
            c0 = b0.fma(FloatVector.broadcast(S, a[a0 + ap]), c0);
            c1 = b0.fma(FloatVector.broadcast(S, a[a1 + ap]), c1);
            c2 = b0.fma(FloatVector.broadcast(S, a[a2 + ap]), c2);
            c3 = b0.fma(FloatVector.broadcast(S, a[a3 + ap]), c3);
        }
        c0.intoArray(c, co, mask);
        c1.intoArray(c, co + ldc, mask);
        c2.intoArray(c, co + 2 * ldc, mask);
        c3.intoArray(c, co + 3 * ldc, mask);
    }

    /** One row of C, {@code width} columns (at most 2V). */
    private static void row(float[] a, int ao, int acs, float[] b, int bo, int ldb,
                            float[] c, int co, int k, int width, boolean acc) {
        for (int j = 0; j < width; j += V) {
            VectorMask<Float> mask = S.indexInRange(j, width);
            FloatVector s = acc ? FloatVector.fromArray(S, c, co + j, mask) : FloatVector.zero(S);
            for (int p = 0, bp = bo + j, ap = ao; p < k; p++, bp += ldb, ap += acs) {
                s = FloatVector.fromArray(S, b, bp, mask).fma(FloatVector.broadcast(S, a[ap]), s);
            }
            s.intoArray(c, co + j, mask);
        }
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
