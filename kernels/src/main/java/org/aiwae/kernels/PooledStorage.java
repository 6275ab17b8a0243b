package org.aiwae.kernels;

import java.lang.ref.Cleaner;
import org.aiwae.engine.DeviceStorage;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;

/**
 * A tensor's memory on a {@link DeviceBackend}: one lease of the backend's {@link BufferPool}. Its buffer goes
 * back to the pool once, either when no tensor refers to it any more (a cleaner) or when the
 * {@link DeviceBackend#reclaim} scope it was made in closes, but not while a {@link DeviceGraph} that used
 * it is open (then when the last such graph closes); after that any use is an error.
 */
final class PooledStorage implements DeviceStorage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final DeviceBackend owner;
    private final BufferPool.Lease lease;
    private final long floats;

    PooledStorage(DeviceBackend owner, BufferPool.Lease lease, long floats) {
        this.owner = owner;
        this.lease = lease;
        this.floats = floats;
        CLEANER.register(this, lease::release);
    }

    BufferPool.Lease lease() {
        return lease;
    }

    /** The device buffer; while the calling thread records, the recording holds it ({@link DeviceBackend#record}). */
    Device.Buffer buffer() {
        if (lease.returned()) {
            throw new IllegalStateException("a tensor on " + owner.name() + " used after the reclaim scope it was made in closed"
                    + " (or, if a device graph used it, after that graph closed); copy what must outlive a scope into a tensor made before it");
        }
        return owner.use(lease);
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
        owner.device().read(buffer(), offset, dst, dstOff, n);
    }

    @Override
    public void write(long offset, float[] src, int srcOff, int n) {
        owner.device().write(buffer(), offset, src, srcOff, n);
    }

    @Override
    public void fill(long offset, long n, float value) {
        owner.device().fill(buffer(), offset, n, value);
    }

    @Override
    public void copy(long offset, DeviceStorage src, long srcOffset, long n) {
        if (!(src instanceof PooledStorage s) || s.owner != owner) {
            throw new IllegalArgumentException("copy: a buffer on " + src.placement().name() + " into one on " + owner.name());
        }
        owner.device().copy(s.buffer(), srcOffset, buffer(), offset, n);
    }

    /**
     * Where a kernel on {@code device} finds {@code t} in place: its buffer and offset when it is a tensor on that
     * device, null when it is on the host; a tensor on another device is an error.
     */
    static Kernels.Slice slice(Device device, Tensor t) {
        if (t.onHost()) {
            return null;
        }
        if (t.deviceStorage() instanceof PooledStorage b && b.owner.device() == device) {
            return new Kernels.Slice(b.buffer(), t.offset());
        }
        throw new IllegalArgumentException("a tensor on " + t.placement().name() + " given to a " + device.api() + " kernel");
    }

    /** Copies {@code src} (on the host: an upload; on this device: a device copy) to the start of {@code dst}. */
    static void put(Device device, Device.Buffer dst, Tensor src) {
        if (src.onHost()) {
            device.write(dst, src.data(), src.offset(), src.size());
        } else if (src.deviceStorage() instanceof PooledStorage b) {
            device.copy(b.buffer(), src.offset(), dst, 0, src.size());
        } else {
            throw new IllegalArgumentException("a tensor on " + src.placement().name() + " given to a " + device.api() + " kernel");
        }
    }

    /** Copies the first {@code n} floats of {@code src} into {@code dst} (on the host: a download; on this device: a device copy). */
    static void get(Device device, Device.Buffer src, Tensor dst, int n) {
        if (dst.onHost()) {
            device.read(src, dst.data(), dst.offset(), n);
        } else if (dst.deviceStorage() instanceof PooledStorage b) {
            device.copy(src, 0, b.buffer(), dst.offset(), n);
        } else {
            throw new IllegalArgumentException("a tensor on " + dst.placement().name() + " given to a " + device.api() + " kernel");
        }
    }
}
