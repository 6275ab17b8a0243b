package org.aiwae.engine;

import java.util.Arrays;

/**
 * A dense, row-major float32 array with a shape.
 *
 * <p>A tensor is a window {@code [offset, offset + size)} onto a {@code float[]}; {@link #reshape}
 * and {@link #rows} return views that share the storage, every other method that returns a tensor
 * returns a new one. Backends read and write {@link #data()} from {@link #offset()} directly.
 */
public final class Tensor {
    private final float[] data;
    private final int offset;
    private final int[] shape;
    private final int size;

    private Tensor(float[] data, int offset, int[] shape) {
        this.data = data;
        this.offset = offset;
        this.shape = shape;
        this.size = Shapes.size(shape);
        if (offset < 0 || offset + size > data.length) {
            throw new IllegalArgumentException("tensor of shape " + Shapes.str(shape) + " at offset " + offset
                    + " does not fit in " + data.length + " floats");
        }
    }

    /** A new tensor of zeros. */
    public static Tensor zeros(int... shape) {
        int[] s = Shapes.check("zeros", shape);
        return new Tensor(new float[Shapes.size(s)], 0, s);
    }

    /** A new tensor filled with {@code value}. */
    public static Tensor full(float value, int... shape) {
        Tensor t = zeros(shape);
        Arrays.fill(t.data, value);
        return t;
    }

    /** Wraps {@code data} (no copy) as a tensor of the given shape. */
    public static Tensor wrap(float[] data, int... shape) {
        int[] s = Shapes.check("wrap", shape);
        if (Shapes.size(s) != data.length) {
            throw new IllegalArgumentException("wrap: " + data.length + " floats cannot have shape " + Shapes.str(s));
        }
        return new Tensor(data, 0, s);
    }

    /** A copy of {@code data} as a tensor of the given shape. */
    public static Tensor of(float[] data, int... shape) {
        return wrap(data.clone(), shape);
    }

    /** A rank-0 tensor holding one value. */
    public static Tensor scalar(float value) {
        return new Tensor(new float[] {value}, 0, new int[0]);
    }

    public int[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end. */
    public int dim(int i) {
        return shape[Shapes.axis("dim", i, shape.length)];
    }

    public int rank() {
        return shape.length;
    }

    public int size() {
        return size;
    }

    /** The backing array; valid elements are {@code [offset(), offset() + size())}. */
    public float[] data() {
        return data;
    }

    public int offset() {
        return offset;
    }

    /** A view with another shape of the same size; one dimension may be -1. */
    public Tensor reshape(int... newShape) {
        return new Tensor(data, offset, Shapes.resolveReshape(shape, newShape));
    }

    /** A view of rows {@code [from, to)} of the leading dimension. */
    public Tensor rows(int from, int to) {
        if (shape.length == 0 || from < 0 || to > shape[0] || from > to) {
            throw new IllegalArgumentException("rows(" + from + ", " + to + ") of shape " + Shapes.str(shape));
        }
        int[] s = shape.clone();
        s[0] = to - from;
        return new Tensor(data, offset + from * (size / Math.max(shape[0], 1)), s);
    }

    /** Row {@code i} of the leading dimension, as a view with that dimension dropped. */
    public Tensor row(int i) {
        return rows(i, i + 1).reshape(Arrays.copyOfRange(shape, 1, shape.length));
    }

    public float get(int... index) {
        return data[offset + flatIndex(index)];
    }

    public void set(float value, int... index) {
        data[offset + flatIndex(index)] = value;
    }

    /** The single value of a tensor of size 1. */
    public float item() {
        if (size != 1) {
            throw new IllegalStateException("item() of a tensor of shape " + Shapes.str(shape));
        }
        return data[offset];
    }

    /** A fresh array with the elements in row-major order. */
    public float[] toArray() {
        return Arrays.copyOfRange(data, offset, offset + size);
    }

    /** A deep copy with its own storage. */
    public Tensor copy() {
        return new Tensor(toArray(), 0, shape.clone());
    }

    /** Overwrites this tensor's elements with {@code src}'s (same size). */
    public Tensor copyFrom(Tensor src) {
        requireSize("copyFrom", src.size);
        System.arraycopy(src.data, src.offset, data, offset, size);
        return this;
    }

    /** Overwrites this tensor's elements with {@code src} (same size). */
    public Tensor copyFrom(float[] src) {
        requireSize("copyFrom", src.length);
        System.arraycopy(src, 0, data, offset, size);
        return this;
    }

    public Tensor fill(float value) {
        Arrays.fill(data, offset, offset + size, value);
        return this;
    }

    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    private void requireSize(String op, int n) {
        if (n != size) {
            throw new IllegalArgumentException(op + ": " + n + " elements into a tensor of shape " + Shapes.str(shape));
        }
    }

    private int flatIndex(int[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index of rank " + index.length + " into shape " + Shapes.str(shape));
        }
        int flat = 0;
        for (int d = 0; d < shape.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " into shape " + Shapes.str(shape));
            }
            flat = flat * shape[d] + index[d];
        }
        return flat;
    }

    @Override
    public String toString() {
        int n = Math.min(size, 8);
        StringBuilder sb = new StringBuilder("Tensor").append(Shapes.str(shape)).append(" [");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ", ").append(data[offset + i]);
        }
        return sb.append(size > n ? ", ...]" : "]").toString();
    }
}
