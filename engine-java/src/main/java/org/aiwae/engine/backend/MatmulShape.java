package org.aiwae.engine.backend;

import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;

/** The checked dimensions of {@code out[m,n] = op(a)[m,k] op(b)[k,n]}; shared by every backend. */
public record MatmulShape(int m, int n, int k) {

    public static MatmulShape of(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out) {
        if (a.rank() != 2 || b.rank() != 2 || out.rank() != 2) {
            throw new IllegalArgumentException("matmul: needs 2-d operands, got " + describe(a, transA, b, transB, out));
        }
        int m = transA ? a.dim(1) : a.dim(0);
        int k = transA ? a.dim(0) : a.dim(1);
        int kb = transB ? b.dim(1) : b.dim(0);
        int n = transB ? b.dim(0) : b.dim(1);
        if (k != kb || out.dim(0) != m || out.dim(1) != n) {
            throw new IllegalArgumentException("matmul: shapes do not agree: " + describe(a, transA, b, transB, out));
        }
        return new MatmulShape(m, n, k);
    }

    private static String describe(Tensor a, boolean ta, Tensor b, boolean tb, Tensor out) {
        return Shapes.str(a.shape()) + (ta ? "^T" : "") + " x " + Shapes.str(b.shape()) + (tb ? "^T" : "")
                + " -> " + Shapes.str(out.shape());
    }
}
