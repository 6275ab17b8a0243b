package org.aiwae.kernels;

import org.aiwae.engine.Shapes;

/**
 * A broadcast over at most four dimensions: the output's dimensions with those of size 1 dropped and
 * neighbours merged where both operands step through them contiguously, and each operand's strides.
 */
record Broadcast(int[] dims, int[] a, int[] b) {
    static final int RANK = 4;

    static Broadcast of(int[] shape, int[] sa, int[] sb) {
        Shapes.Merged m = Shapes.merge(shape, sa, sb);
        int r = m.rank();
        int[] d = m.dims(), x = m.a(), z = m.b();
        if (r > RANK) {
            throw new IllegalArgumentException("broadcast of " + Shapes.str(shape) + ": more than " + RANK
                    + " dimensions remain after merging; the device kernels take " + RANK);
        }
        int[] dims = {1, 1, 1, 1}, as = new int[RANK], bs = new int[RANK];
        for (int i = 0; i < r; i++) { // right-aligned: the last dimension is the fastest
            dims[RANK - r + i] = d[i];
            as[RANK - r + i] = x[i];
            bs[RANK - r + i] = z[i];
        }
        return new Broadcast(dims, as, bs);
    }
}
