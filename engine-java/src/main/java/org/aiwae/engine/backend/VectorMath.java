package org.aiwae.engine.backend;

import static org.aiwae.engine.backend.Gemm.S;
import static org.aiwae.engine.backend.Gemm.V;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Vectorised float32 maps over array ranges, used by the CPU backend's elementwise ops and fused
 * kernels. Transcendentals use the Vector API's lanewise operators (intrinsified on x86).
 */
public final class VectorMath {
    private VectorMath() {}

    /** {@code y[i] = op(x[i])} for i in [0, n). */
    public static void map(UnaryOp op, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i < n; i += V) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, x, xo + i, m);
            apply(op, v).intoArray(y, yo + i, m);
        }
    }

    /** The vector form of {@code op}. */
    public static FloatVector apply(UnaryOp op, FloatVector v) {
        return switch (op) {
            case NEG -> v.neg();
            case EXP -> v.lanewise(VectorOperators.EXP);
            case LOG -> v.lanewise(VectorOperators.LOG);
            case TANH -> v.lanewise(VectorOperators.TANH);
            case SIGMOID -> sigmoid(v);
            case SOFTPLUS -> softplus(v);
            case SQUARE -> v.mul(v);
        };
    }

    /** {@code 1 / (1 + exp(-v))}; saturates to exactly 0 and 1 without NaN. */
    public static FloatVector sigmoid(FloatVector v) {
        return FloatVector.broadcast(S, 1f).div(v.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    /** {@code log(1 + exp(v))} as {@code max(v, 0) + log1p(exp(-|v|))}. */
    public static FloatVector softplus(FloatVector v) {
        return v.max(0f).add(v.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P));
    }

    /** {@code y[i] = op(a[i], b[i])} for same-length operands. */
    public static void zip(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i += V) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector x = FloatVector.fromArray(S, a, ao + i, m);
            FloatVector z = FloatVector.fromArray(S, b, bo + i, m);
            apply(op, x, z).intoArray(y, yo + i, m);
        }
    }

    /** The vector form of {@code op}. */
    public static FloatVector apply(BinaryOp op, FloatVector a, FloatVector b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            case TANH_GRAD -> a.mul(b.mul(b).neg().add(1f));
            case SIGMOID_GRAD -> a.mul(b).mul(b.neg().add(1f));
        };
    }

    /** Sum of {@code x[xo .. xo+n)} accumulated in double. */
    public static double sum(float[] x, int xo, int n) {
        double s = 0;
        int i = 0;
        for (; i + V <= n; i += V) {
            s += FloatVector.fromArray(S, x, xo + i).reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            s += x[xo + i];
        }
        return s;
    }

    /** {@code y[i] = tanh(y[i] + bias[i])} in place over one row. */
    public static void biasTanh(float[] y, int yo, float[] bias, int bo, int n) {
        for (int i = 0; i < n; i += V) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, y, yo + i, m).add(FloatVector.fromArray(S, bias, bo + i, m));
            v.lanewise(VectorOperators.TANH).intoArray(y, yo + i, m);
        }
    }
}
