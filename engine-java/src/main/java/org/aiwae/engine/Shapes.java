package org.aiwae.engine;

import java.util.Arrays;

/** Shape arithmetic shared by tensors, ops and backends: sizes, axes, broadcasting. */
public final class Shapes {
    private Shapes() {}

    /** The most elements one tensor holds (its values are one Java array). */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE;

    public static int size(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n > MAX_ELEMENTS) {
            throw new IllegalArgumentException("shape " + str(shape) + " has more than 2^31 elements");
        }
        return (int) n;
    }

    /**
     * The number of elements of a tensor of dimensions {@code dims} (non-negative), saturating at
     * {@code Long.MAX_VALUE} instead of overflowing: for checking sizes before anything is allocated.
     */
    public static long elements(long... dims) {
        long n = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension " + d);
            }
            if (d != 0 && n > Long.MAX_VALUE / d) {
                return Long.MAX_VALUE;
            }
            n *= d;
        }
        return n;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    static int[] check(String op, int[] shape) {
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(op + ": negative dimension in shape " + str(shape));
            }
        }
        return shape.clone();
    }

    /** Resolves a possibly negative axis against a rank. */
    public static int axis(String op, int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(op + ": axis " + axis + " out of range for rank " + rank);
        }
        return a;
    }

    static int[] resolveReshape(int[] from, int[] to) {
        int[] s = to.clone();
        int known = 1;
        int free = -1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (free >= 0) {
                    throw new IllegalArgumentException("reshape: more than one -1 in " + str(to));
                }
                free = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException("reshape: negative dimension in " + str(to));
            } else {
                known *= s[i];
            }
        }
        int n = size(from);
        if (free >= 0 && known > 0 && n % known == 0) {
            s[free] = n / known;
        }
        if (free >= 0 && s[free] == -1 || size(s) != n) {
            throw new IllegalArgumentException("reshape: cannot view shape " + str(from) + " as " + str(to));
        }
        return s;
    }

    /** NumPy broadcasting of two shapes; fails naming {@code op} and both shapes. */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b) + " do not broadcast");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** True when {@code suffix} equals the trailing dimensions of {@code shape} (so index i maps to i % size). */
    public static boolean isSuffix(int[] suffix, int[] shape) {
        if (suffix.length > shape.length) {
            return false;
        }
        int off = shape.length - suffix.length;
        for (int i = 0; i < suffix.length; i++) {
            if (suffix[i] != shape[off + i]) {
                return false;
            }
        }
        return true;
    }

    /** Row-major strides of {@code shape} aligned right against {@code rank}, 0 where broadcast. */
    public static int[] broadcastStrides(int[] shape, int[] out) {
        int rank = out.length;
        int[] strides = new int[rank];
        int stride = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            int o = i + rank - shape.length;
            strides[o] = shape[i] == 1 && out[o] != 1 ? 0 : stride;
            stride *= shape[i];
        }
        return strides;
    }

    /**
     * A broadcast of two operands to {@code shape} (with strides {@code sa}, {@code sb} from
     * {@link #broadcastStrides}, 0 where an operand repeats) in as few dimensions as it can be written:
     * dimensions of size 1 dropped, neighbours merged where both operands step through them
     * contiguously. {@code [K, B, Z] + [B, Z]} becomes {@code [K, B*Z]}, {@code [N, D] * [N, 1]} stays two.
     * Both backends loop over the merged form.
     */
    public record Merged(int[] dims, int[] a, int[] b) {
        public int rank() {
            return dims.length;
        }
    }

    public static Merged merge(int[] shape, int[] sa, int[] sb) {
        int[] d = new int[shape.length], x = new int[shape.length], z = new int[shape.length];
        int r = 0;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 1) {
                continue;
            }
            if (r > 0 && x[r - 1] == sa[i] * shape[i] && z[r - 1] == sb[i] * shape[i]) {
                d[r - 1] *= shape[i]; // merge with the previous dimension
                x[r - 1] = sa[i];
                z[r - 1] = sb[i];
            } else {
                d[r] = shape[i];
                x[r] = sa[i];
                z[r] = sb[i];
                r++;
            }
        }
        return new Merged(Arrays.copyOf(d, r), Arrays.copyOf(x, r), Arrays.copyOf(z, r));
    }

    /**
     * A shape seen as {@code [outer, n, inner]} around its dimension {@code axis}: the product of the dimensions
     * before it, its length, and the product of those after it; {@code outer} is 0 when the shape has no elements.
     */
    public record Block(int axis, int outer, int n, int inner) {}

    /** {@code shape} around {@code axis} (negative counts from the end; out of range is an error naming {@code op}). */
    public static Block block(String op, int[] shape, int axis) {
        int ax = axis(op, axis, shape.length);
        int n = shape[ax], inner = 1;
        for (int d = ax + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        long along = (long) n * inner;
        return new Block(ax, along == 0 ? 0 : (int) (size(shape) / along), n, inner);
    }

    /** {@link #block} for a reduction over {@code axis}, which must hold at least one element: an error naming {@code op} otherwise. */
    public static Block reduction(String op, int[] shape, int axis) {
        Block b = block(op, shape, axis);
        if (b.n() == 0) {
            throw new IllegalArgumentException(op + ": empty axis " + b.axis() + " of shape " + str(shape));
        }
        return b;
    }

    /** The shape with {@code axis} removed. */
    public static int[] drop(int[] shape, int axis) {
        int[] out = new int[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != axis) {
                out[j++] = shape[i];
            }
        }
        return out;
    }

    /** The shape with a dimension of size 1 inserted at {@code axis}. */
    public static int[] insertOne(int[] shape, int axis) {
        int[] out = new int[shape.length + 1];
        for (int i = 0, j = 0; i < out.length; i++) {
            out[i] = i == axis ? 1 : shape[j++];
        }
        return out;
    }
}
