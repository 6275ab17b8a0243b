package org.aiwae.engine.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.aiwae.engine.Ref;
import org.aiwae.engine.Tensor;
import org.junit.jupiter.api.Test;

class MatmulTest {
    private final Random rnd = new Random(11);

    private Tensor randn(int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = (float) rnd.nextGaussian();
        }
        return t;
    }

    private void check(int m, int n, int k, boolean ta, boolean tb, boolean acc) {
        Tensor a = ta ? randn(k, m) : randn(m, k);
        Tensor b = tb ? randn(n, k) : randn(k, n);
        Tensor c = randn(m, n);
        Ref before = Ref.of(c);
        CpuBackend.INSTANCE.matmul(a, ta, b, tb, c, acc);
        Ref want = Ref.of(a).matmul(ta, Ref.of(b), tb);
        for (int i = 0; i < m * n; i++) {
            double expected = want.v()[i] + (acc ? before.v()[i] : 0);
            assertEquals(expected, c.data()[i], 1e-5 * Math.sqrt(k) * 4 + 1e-5 * Math.abs(expected),
                    m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " acc=" + acc + " at " + i);
        }
    }

    @Test
    void modelShapesAndAwkwardSizes() {
        int[][] shapes = {{640, 200, 50}, {640, 784, 200}, {64, 200, 200}, {1, 1, 1}, {3, 5, 7}, {37, 33, 19},
                          {5, 17, 64}, {130, 31, 3}, {9, 48, 1}, {200, 50, 640}};
        for (int[] s : shapes) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    check(s[0], s[1], s[2], ta, tb, false);
                }
            }
            check(s[0], s[1], s[2], false, false, true);
        }
    }

    @Test
    void viewsWithOffsetsAreRespected() {
        Tensor big = randn(10, 6);
        Tensor a = big.rows(3, 7);
        Tensor b = randn(6, 5);
        Tensor c = Tensor.zeros(4, 5);
        CpuBackend.INSTANCE.matmul(a, false, b, false, c, false);
        Ref want = Ref.of(a).matmul(false, Ref.of(b), false);
        for (int i = 0; i < 20; i++) {
            assertEquals(want.v()[i], c.data()[i], 1e-4);
        }
    }

    @Test
    void mismatchedShapesNameTheOpAndShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CpuBackend.INSTANCE.matmul(Tensor.zeros(3, 4), false, Tensor.zeros(5, 2), false, Tensor.zeros(3, 2), false));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("[3, 4]") && e.getMessage().contains("[5, 2]"),
                e.getMessage());
    }

    /**
     * The determinism contract of {@link Gemm}: each element is one chain of fused multiply-adds over p in order,
     * starting from 0 or from C, whatever the blocking (k above {@code Gemm.KC}, n above {@code Gemm.NC}), the edge
     * blocks and the layout of A.
     */
    @Test
    void everyElementIsTheScalarFmaChainInOrder() {
        int[][] shapes = {{37, 45, 131}, {8, 16, 300}, {13, 300, 7}, {5, 3, 600}, {4, 17, 1}, {9, 50, 200}};
        for (int[] sh : shapes) {
            int m = sh[0], n = sh[1], k = sh[2];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    for (boolean acc : new boolean[] {false, true}) {
                        Tensor a = ta ? randn(k, m) : randn(m, k);
                        Tensor b = tb ? randn(n, k) : randn(k, n);
                        Tensor c = randn(m, n);
                        float[] c0 = c.data().clone();
                        CpuBackend.INSTANCE.matmul(a, ta, b, tb, c, acc);
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                float want = acc ? c0[i * n + j] : 0f;
                                for (int p = 0; p < k; p++) {
                                    float x = ta ? a.data()[p * m + i] : a.data()[i * k + p];
                                    float y = tb ? b.data()[j * k + p] : b.data()[p * n + j];
                                    want = Math.fma(x, y, want);
                                }
                                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(c.data()[i * n + j]),
                                        m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " acc=" + acc + " at " + i + "," + j);
                            }
                        }
                    }
                }
            }
        }
    }

    /** Threads split C by rows; each element must come out the same whatever the split (same products, same order). */
    @Test
    void everyRowSplitGivesTheSameBits() {
        int m = 37, n = 45, k = 131;
        for (boolean ta : new boolean[] {false, true}) {
            Tensor a = ta ? randn(k, m) : randn(m, k);
            Tensor b = randn(k, n);
            int ars = ta ? 1 : k, acs = ta ? m : 1;
            float[] whole = new float[m * n];
            Gemm.multiply(a.data(), 0, ars, acs, Gemm.Packed.of(b.data(), 0, k, n, false), whole, 0, n, m, false, new Gemm.Scratch(m, k));
            for (int[] cuts : new int[][] {{1}, {3, 4}, {5, 6, 7, 30}, {2, 9, 17, 36}}) {
                float[] split = new float[m * n];
                int from = 0;
                for (int i = 0; i <= cuts.length; i++) {
                    int to = i < cuts.length ? cuts[i] : m;
                    Gemm.multiply(a.data(), from * ars, ars, acs, Gemm.Packed.of(b.data(), 0, k, n, false), split, from * n, n, to - from, false, new Gemm.Scratch(m, k));
                    from = to;
                }
                for (int i = 0; i < m * n; i++) {
                    assertEquals(Float.floatToIntBits(whole[i]), Float.floatToIntBits(split[i]),
                            "ta=" + ta + " cuts=" + java.util.Arrays.toString(cuts) + " at " + i);
                }
            }
        }
    }
}
