package org.aiwae.engine;

import java.util.Arrays;
import java.util.Objects;

/**
 * A dense, row-major float32 array with a shape, in the memory of one placement: the host (a
 * {@code float[]}, computed on by the CPU backend) or one device backend ({@link DeviceStorage}).
 *
 * <p>A tensor is a window {@code [offset, offset + size)} onto its memory; {@link #reshape}
 * and {@link #rows} return views that share the storage, every other method that returns a tensor
 * returns a new one. Ops run on the backend their operands live on; moving between placements is
 * explicit ({@link #to}), and so are the host reads of a device tensor ({@link #item()},
 * {@link #toArray()}, {@link #get}). The CPU backend reads and writes {@link #data()} from
 * {@link #offset()} directly; a device tensor has no host array.
 */
public final class Tensor {
    /** The host array, or null on a device. */
    private final float[] data;
    /** The device memory, or null on the host. */
    private final DeviceStorage storage;
    private final int offset;
    private final int[] shape;
    private final int size;

    private Tensor(float[] data, DeviceStorage storage, int offset, int[] shape) {
        this.data = data;
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.size = Shapes.size(shape);
        long capacity = data != null ? data.length : storage.floats();
        if (offset < 0 || offset + (long) size > capacity) {
            throw new IllegalArgumentException("tensor of shape " + Shapes.str(shape) + " at offset " + offset
                    + " does not fit in " + capacity + " floats");
        }
    }

    private Tensor(float[] data, int offset, int[] shape) {
        this(data, null, offset, shape);
    }

    /** A view of the same memory. */
    private Tensor view(int offset, int[] shape) {
        return new Tensor(data, storage, offset, shape);
    }

    /** A new host tensor of zeros. */
    public static Tensor zeros(int... shape) {
        int[] s = Shapes.check("zeros", shape);
        return new Tensor(new float[Shapes.size(s)], 0, s);
    }

    /** A new host tensor filled with {@code value}. */
    public static Tensor full(float value, int... shape) {
        Tensor t = zeros(shape);
        Arrays.fill(t.data, value);
        return t;
    }

    /** Wraps {@code data} (no copy) as a host tensor of the given shape. */
    public static Tensor wrap(float[] data, int... shape) {
        int[] s = Shapes.check("wrap", shape);
        if (Shapes.size(s) != data.length) {
            throw new IllegalArgumentException("wrap: " + data.length + " floats cannot have shape " + Shapes.str(s));
        }
        return new Tensor(data, 0, s);
    }

    /** A tensor of the given shape on a device buffer (for device backends). */
    public static Tensor on(DeviceStorage storage, int... shape) {
        return new Tensor(null, Objects.requireNonNull(storage, "storage"), 0, Shapes.check("on", shape));
    }

    /** A copy of {@code data} as a host tensor of the given shape. */
    public static Tensor of(float[] data, int... shape) {
        return wrap(data.clone(), shape);
    }

    /** A rank-0 host tensor holding one value. */
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

    /** Where this tensor's storage lives. */
    public Placement placement() {
        return data != null ? Placement.HOST : storage.placement();
    }

    /** True when the storage is a host array. */
    public boolean onHost() {
        return data != null;
    }

    /**
     * The backing host array; valid elements are {@code [offset(), offset() + size())}. Only a host
     * tensor has one: a device tensor is read with {@link #toArray()} or moved with {@link #to}.
     */
    public float[] data() {
        if (data == null) {
            throw new IllegalStateException("data(): the tensor of shape " + Shapes.str(shape) + " lives on "
                    + storage.placement().name() + ", not in host memory; read it with toArray() or move it with to(cpu)");
        }
        return data;
    }

    /** The device memory of a device tensor. */
    public DeviceStorage deviceStorage() {
        if (data != null) {
            throw new IllegalStateException("the tensor of shape " + Shapes.str(shape) + " is in host memory");
        }
        return storage;
    }

    public int offset() {
        return offset;
    }

    /**
     * This tensor's values in {@code target}'s memory: the tensor itself when it already lives
     * there, else a copy (an explicit transfer).
     */
    public Tensor to(Placement target) {
        if (target.isHost() ? data != null : data == null && storage.placement() == target) {
            return this;
        }
        Tensor host = data != null ? this : wrap(toArray(), shape);
        return target.upload(host);
    }

    /** A view with another shape of the same size; one dimension may be -1. */
    public Tensor reshape(int... newShape) {
        return view(offset, Shapes.resolveReshape(shape, newShape));
    }

    /** A view of rows {@code [from, to)} of the leading dimension. */
    public Tensor rows(int from, int to) {
        if (shape.length == 0 || from < 0 || to > shape[0] || from > to) {
            throw new IllegalArgumentException("rows(" + from + ", " + to + ") of shape " + Shapes.str(shape));
        }
        int[] s = shape.clone();
        s[0] = to - from;
        return view(offset + from * (size / Math.max(shape[0], 1)), s);
    }

    /** Row {@code i} of the leading dimension, as a view with that dimension dropped. */
    public Tensor row(int i) {
        return rows(i, i + 1).reshape(Arrays.copyOfRange(shape, 1, shape.length));
    }

    /** One element (on a device: a host read). */
    public float get(int... index) {
        int i = offset + flatIndex(index);
        if (data != null) {
            return data[i];
        }
        float[] one = new float[1];
        deviceStorage().read(i, one, 0, 1);
        return one[0];
    }

    /** Sets one element (on a device: a host write). */
    public void set(float value, int... index) {
        int i = offset + flatIndex(index);
        if (data != null) {
            data[i] = value;
        } else {
            deviceStorage().write(i, new float[] {value}, 0, 1);
        }
    }

    /** The single value of a tensor of size 1 (on a device: a host read, which waits for the device). */
    public float item() {
        if (size != 1) {
            throw new IllegalStateException("item() of a tensor of shape " + Shapes.str(shape));
        }
        return data != null ? data[offset] : get(new int[shape.length]);
    }

    /** A fresh host array with the elements in row-major order (on a device: a host read). */
    public float[] toArray() {
        if (data != null) {
            return Arrays.copyOfRange(data, offset, offset + size);
        }
        float[] out = new float[size];
        deviceStorage().read(offset, out, 0, size);
        return out;
    }

    /** A deep copy with its own storage, in the same placement. */
    public Tensor copy() {
        if (data != null) {
            return new Tensor(toArray(), 0, shape.clone());
        }
        return storage.placement().empty(shape).copyFrom(this);
    }

    /**
     * Overwrites this tensor's elements with {@code src}'s (same size). Between the host and a
     * device this is an explicit transfer; between two devices it is an error.
     */
    public Tensor copyFrom(Tensor src) {
        requireSize("copyFrom", src.size);
        if (data != null && src.data != null) {
            System.arraycopy(src.data, src.offset, data, offset, size);
        } else if (data != null) {
            src.deviceStorage().read(src.offset, data, offset, size);
        } else if (src.data != null) {
            deviceStorage().write(offset, src.data, src.offset, size);
        } else if (src.storage.placement() == storage.placement()) {
            deviceStorage().copy(offset, src.deviceStorage(), src.offset, size);
        } else {
            throw new IllegalArgumentException("copyFrom: a tensor on " + src.storage.placement().name() + " into one on "
                    + storage.placement().name() + "; move it with to() first");
        }
        return this;
    }

    /** Overwrites this tensor's elements with {@code src} (same size). */
    public Tensor copyFrom(float[] src) {
        requireSize("copyFrom", src.length);
        if (data != null) {
            System.arraycopy(src, 0, data, offset, size);
        } else {
            deviceStorage().write(offset, src, 0, size);
        }
        return this;
    }

    public Tensor fill(float value) {
        if (data != null) {
            Arrays.fill(data, offset, offset + size, value);
        } else {
            deviceStorage().fill(offset, size, value);
        }
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

    /** The shape and, for a host tensor, the first values (a device tensor is not read implicitly). */
    @Override
    public String toString() {
        if (data == null) {
            return "Tensor" + Shapes.str(shape) + " on " + storage.placement().name();
        }
        int n = Math.min(size, 8);
        StringBuilder sb = new StringBuilder("Tensor").append(Shapes.str(shape)).append(" [");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ", ").append(data[offset + i]);
        }
        return sb.append(size > n ? ", ...]" : "]").toString();
    }
}
