package org.aiwae.kernels;

import java.lang.ref.Cleaner;
import org.aiwae.engine.DeviceStorage;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;

/**
 * A tensor's storage on a {@link DeviceBackend}: one pooled device buffer. When no tensor
 * refers to it any more its buffer goes back to the backend's pool.
 */
final class DeviceBuffer implements DeviceStorage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final DeviceBackend owner;
    private final Device.Buffer buffer;
    private final long floats;

    DeviceBuffer(DeviceBackend owner, Device.Buffer buffer, long floats, BufferPool pool) {
        this.owner = owner;
        this.buffer = buffer;
        this.floats = floats;
        CLEANER.register(this, () -> pool.giveBack(buffer));
    }

    Device.Buffer buffer() {
        return buffer;
    }

    @Override
    public Placement placement() {
        return owner;
    }

    @Override
    public long floats() {
        return floats;
    }

    @Override
    public void read(long offset, float[] dst, int dstOff, int n) {
        owner.device().read(buffer, offset, dst, dstOff, n);
    }

    @Override
    public void write(long offset, float[] src, int srcOff, int n) {
        owner.device().write(buffer, offset, src, srcOff, n);
    }

    @Override
    public void fill(long offset, long n, float value) {
        owner.device().fill(buffer, offset, n, value);
    }

    @Override
    public void copy(long offset, DeviceStorage src, long srcOffset, long n) {
        if (!(src instanceof DeviceBuffer s) || s.owner != owner) {
            throw new IllegalArgumentException("copy: a buffer on " + src.placement().name() + " into one on " + owner.name());
        }
        owner.device().copy(s.buffer, srcOffset, buffer, offset, n);
    }

    /** Copies {@code src} (on the host: an upload; on this device: a device copy) to the start of {@code dst}. */
    static void put(Device device, Device.Buffer dst, Tensor src) {
        if (src.onHost()) {
            device.write(dst, src.data(), src.offset(), src.size());
        } else if (src.deviceStorage() instanceof DeviceBuffer b) {
            device.copy(b.buffer, src.offset(), dst, 0, src.size());
        } else {
            throw new IllegalArgumentException("a tensor on " + src.placement().name() + " given to a " + device.api() + " kernel");
        }
    }

    /** Copies the first {@code n} floats of {@code src} into {@code dst} (on the host: a download; on this device: a device copy). */
    static void get(Device device, Device.Buffer src, Tensor dst, int n) {
        if (dst.onHost()) {
            device.read(src, dst.data(), dst.offset(), n);
        } else if (dst.deviceStorage() instanceof DeviceBuffer b) {
            device.copy(src, 0, b.buffer, dst.offset(), n);
        } else {
            throw new IllegalArgumentException("a tensor on " + dst.placement().name() + " given to a " + device.api() + " kernel");
        }
    }
}
