package org.aiwae.engine.backend;

import static org.aiwae.engine.backend.Gemm.S;
import static org.aiwae.engine.backend.Gemm.V;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Vectorised float32 maps over array ranges, used by the CPU backend's elementwise ops and fused
 * kernels. Every result is independent of the JIT tier, the vector width and the thread count:
 * transcendentals are {@link FloatMath}'s polynomials (never the Vector API's {@code lanewise(EXP/...)}),
 * elementwise maps treat each element alone, and {@link #sum} adds in a fixed order.
 */
public final class VectorMath {
    private VectorMath() {}

    /** Elements a map works on at a time: its scratch arrays stay in L1. */
    private static final int CHUNK = 512;

    /** {@code y[i] = op(x[i])} for i in [0, n); y may be x (same offsets). */
    public static void map(UnaryOp op, float[] x, int xo, float[] y, int yo, int n) {
        switch (op) {
            case EXP -> FloatMath.exp(x, xo, y, yo, n);
            case LOG -> FloatMath.log(x, xo, y, yo, n);
            case TANH -> FloatMath.tanh(x, xo, y, yo, n, new FloatMath.Scratch(Math.min(n, CHUNK)));
            case SIGMOID -> FloatMath.sigmoid(x, xo, y, yo, n, new FloatMath.Scratch(Math.min(n, CHUNK)));
            case SOFTPLUS -> FloatMath.softplus(x, xo, y, yo, n, new FloatMath.Scratch(Math.min(n, CHUNK)));
            case NEG, SQUARE, SQRT -> { // sqrt: correctly rounded in both forms
                int i = 0, end = S.loopBound(n);
                // one loop per op: a vector that flows out of a choice into a loop body is boxed by C2
                if (op == UnaryOp.NEG) {
                    for (; i < end; i += V) {
                        FloatVector.fromArray(S, x, xo + i).neg().intoArray(y, yo + i);
                    }
                } else if (op == UnaryOp.SQUARE) {
                    for (; i < end; i += V) {
                        FloatVector v = FloatVector.fromArray(S, x, xo + i);
                        v.mul(v).intoArray(y, yo + i);
                    }
                } else {
                    for (; i < end; i += V) {
                        FloatVector.fromArray(S, x, xo + i).sqrt().intoArray(y, yo + i);
                    }
                }
                for (; i < n; i++) {
                    float v = x[xo + i];
                    y[yo + i] = op == UnaryOp.NEG ? -v : op == UnaryOp.SQUARE ? v * v : (float) Math.sqrt(v);
                }
            }
        }
    }

    /** {@code y[i] = op(a[i], b[i])} for same-length operands. */
    public static void zip(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] y, int yo, int n) {
        switch (op) {
            case ADD -> add(a, ao, b, bo, y, yo, n);
            case SUB -> sub(a, ao, b, bo, y, yo, n);
            case TANH_GRAD -> tanhGrad(a, ao, b, bo, y, yo, n);
            case MUL -> mul(a, ao, b, bo, y, yo, n);
            default -> { // one loop per op: a vector that flows out of a switch into a loop body is boxed by C2
                int i = 0;
                if (op == BinaryOp.DIV) {
                    for (int end = S.loopBound(n); i < end; i += V) {
                        FloatVector.fromArray(S, a, ao + i).div(FloatVector.fromArray(S, b, bo + i)).intoArray(y, yo + i);
                    }
                }
                for (; i < n; i++) {
                    y[yo + i] = apply(op, a[ao + i], b[bo + i]);
                }
            }
        }
    }

    /**
     * {@code y[i] = op(x[i], c)}, or {@code op(c, x[i])} when {@code constantFirst}: the same float
     * operations as {@link #zip} with one operand repeated, so a broadcast gives the bits of the full form.
     */
    public static void zipConstant(BinaryOp op, float[] x, int xo, float c, boolean constantFirst, float[] y, int yo, int n) {
        // one loop per op: a vector that flows out of a switch into a loop body is boxed by C2
        FloatVector cv = FloatVector.broadcast(S, c);
        int i = 0, end = S.loopBound(n);
        switch (op) {
            case ADD -> {
                for (; i < end; i += V) {
                    FloatVector.fromArray(S, x, xo + i).add(cv).intoArray(y, yo + i);
                }
            }
            case MUL -> {
                for (; i < end; i += V) {
                    FloatVector.fromArray(S, x, xo + i).mul(cv).intoArray(y, yo + i);
                }
            }
            case SUB -> {
                if (constantFirst) {
                    for (; i < end; i += V) {
                        cv.sub(FloatVector.fromArray(S, x, xo + i)).intoArray(y, yo + i);
                    }
                } else {
                    for (; i < end; i += V) {
                        FloatVector.fromArray(S, x, xo + i).sub(cv).intoArray(y, yo + i);
                    }
                }
            }
            default -> { } // the scalar loop below: the same float operations
        }
        for (; i < n; i++) {
            y[yo + i] = constantFirst ? apply(op, c, x[xo + i]) : apply(op, x[xo + i], c);
        }
    }

    /** {@code y = a + b}. */
    public static void add(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += V) {
            FloatVector.fromArray(S, a, ao + i).add(FloatVector.fromArray(S, b, bo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = a[ao + i] + b[bo + i];
        }
    }

    /** {@code y = a * b}. */
    public static void mul(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += V) {
            FloatVector.fromArray(S, a, ao + i).mul(FloatVector.fromArray(S, b, bo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = a[ao + i] * b[bo + i];
        }
    }

    /** {@code y = a - b}. */
    public static void sub(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += V) {
            FloatVector.fromArray(S, a, ao + i).sub(FloatVector.fromArray(S, b, bo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = a[ao + i] - b[bo + i];
        }
    }

    /** {@code y = g (1 - h^2)}: the gradient through tanh given its output h. */
    public static void tanhGrad(float[] g, int go, float[] h, int ho, float[] y, int yo, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += V) {
            FloatVector hv = FloatVector.fromArray(S, h, ho + i);
            FloatVector.fromArray(S, g, go + i).mul(hv.mul(hv).neg().add(1f)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = apply(BinaryOp.TANH_GRAD, g[go + i], h[ho + i]);
        }
    }

    /** The scalar form of {@code op}: the same float operations in the same order as the vector loops. */
    static float apply(BinaryOp op, float a, float b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case TANH_GRAD -> a * (-(b * b) + 1f);
            case SIGMOID_GRAD -> (a * b) * (-b + 1f);
            case LESS -> a < b ? 1f : 0f;
        };
    }

    /** Lanes of {@link #sum}'s fixed summation order; a multiple of every vector width up to 512 bits. */
    static final int SUM_LANES = 16;
    /** Rows of {@code SUM_LANES} elements whose float lane sums are added to the double total at once. */
    private static final int SUM_BLOCK_ROWS = 64;

    /**
     * Sum of {@code x[xo .. xo+n)} in a fixed order that depends on n alone: the range is read as rows of
     * {@value #SUM_LANES} elements, in blocks of 64 rows; within a block each of the 16 columns is summed in
     * float, row by row, and the 16 column sums are added in column order to a double total, block by block.
     * Equal bits for every vector width, JIT tier and caller (see {@link #sumScalar}).
     */
    public static double sum(float[] x, int xo, int n) {
        if (SUM_LANES % V != 0) {
            return sumScalar(x, xo, n);
        }
        double total = 0;
        float[] lanes = new float[SUM_LANES];
        for (int b0 = 0; b0 < n; b0 += SUM_LANES * SUM_BLOCK_ROWS) {
            int b1 = Math.min(n, b0 + SUM_LANES * SUM_BLOCK_ROWS);
            for (int c = 0; c < SUM_LANES; c += V) {
                FloatVector acc = FloatVector.zero(S);
                int i = b0 + c;
                for (; i + V <= b1; i += SUM_LANES) {
                    acc = acc.add(FloatVector.fromArray(S, x, xo + i));
                }
                if (i < b1) {
                    VectorMask<Float> m = S.indexInRange(i, b1);
                    acc = acc.add(FloatVector.fromArray(S, x, xo + i, m), m);
                }
                acc.intoArray(lanes, c);
            }
            for (int c = 0; c < SUM_LANES; c++) {
                total += lanes[c];
            }
        }
        return total;
    }

    /** The definition of {@link #sum}'s order, one element at a time. */
    static double sumScalar(float[] x, int xo, int n) {
        double total = 0;
        for (int b0 = 0; b0 < n; b0 += SUM_LANES * SUM_BLOCK_ROWS) {
            int b1 = Math.min(n, b0 + SUM_LANES * SUM_BLOCK_ROWS);
            for (int c = 0; c < SUM_LANES; c++) {
                float lane = 0f;
                for (int i = b0 + c; i < b1; i += SUM_LANES) {
                    lane += x[xo + i];
                }
                total += lane;
            }
        }
        return total;
    }
}
