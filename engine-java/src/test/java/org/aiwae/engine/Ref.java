package org.aiwae.engine;

import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/** A tiny double-precision NumPy for reference computations in tests. */
public record Ref(double[] v, int[] shape) {

    public static Ref of(Tensor t) {
        float[] f = t.toArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return new Ref(d, t.shape());
    }

    public Ref copy() {
        return new Ref(v.clone(), shape.clone());
    }

    public Ref map(DoubleUnaryOperator f) {
        double[] o = new double[v.length];
        for (int i = 0; i < o.length; i++) {
            o[i] = f.applyAsDouble(v[i]);
        }
        return new Ref(o, shape);
    }

    public Ref zip(Ref b, DoubleBinaryOperator f) {
        int[] out = Shapes.broadcast("ref", shape, b.shape);
        int[] sa = Shapes.broadcastStrides(shape, out);
        int[] sb = Shapes.broadcastStrides(b.shape, out);
        int n = Shapes.size(out);
        double[] o = new double[n];
        int[] idx = new int[out.length];
        for (int i = 0; i < n; i++) {
            int ia = 0, ib = 0;
            for (int d = 0; d < out.length; d++) {
                ia += idx[d] * sa[d];
                ib += idx[d] * sb[d];
            }
            o[i] = f.applyAsDouble(v[ia], b.v[ib]);
            for (int d = out.length - 1; d >= 0; d--) {
                if (++idx[d] < out[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return new Ref(o, out);
    }

    /** Reduces {@code axis} with {@code f} starting from {@code init}. */
    public Ref reduce(int axis, double init, DoubleBinaryOperator f) {
        int ax = Shapes.axis("ref", axis, shape.length);
        int inner = 1;
        for (int d = ax + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        int n = shape[ax];
        int outer = v.length / (n * inner);
        double[] o = new double[outer * inner];
        java.util.Arrays.fill(o, init);
        for (int a = 0; a < outer; a++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < inner; j++) {
                    o[a * inner + j] = f.applyAsDouble(o[a * inner + j], v[(a * n + i) * inner + j]);
                }
            }
        }
        return new Ref(o, Shapes.drop(shape, ax));
    }

    public Ref sum(int axis) {
        return reduce(axis, 0, Double::sum);
    }

    public Ref logsumexp(int axis) {
        Ref m = reduce(axis, Double.NEGATIVE_INFINITY, Math::max);
        int ax = Shapes.axis("ref", axis, shape.length);
        Ref mk = new Ref(m.v, Shapes.insertOne(m.shape, ax));
        Ref s = zip(mk, (x, y) -> Math.exp(x - y)).sum(ax);
        return s.zip(m, (x, y) -> Math.log(x) + y);
    }

    public Ref matmul(boolean ta, Ref b, boolean tb) {
        int m = ta ? shape[1] : shape[0], k = ta ? shape[0] : shape[1];
        int n = tb ? b.shape[0] : b.shape[1];
        double[] o = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double x = ta ? v[p * m + i] : v[i * k + p];
                    double y = tb ? b.v[j * k + p] : b.v[p * n + j];
                    s += x * y;
                }
                o[i * n + j] = s;
            }
        }
        return new Ref(o, new int[] {m, n});
    }

    public double total() {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s;
    }
}
