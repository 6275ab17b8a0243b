package org.aiwae.kernels;

import java.util.concurrent.atomic.AtomicLong;

/** A {@link Device} that counts the work it passes on ({@link DeviceWork}): launches, copies, fills, host reads and writes. */
final class CountingDevice implements Device {
    private final Device d;
    private final AtomicLong launches = new AtomicLong(), copies = new AtomicLong(), fills = new AtomicLong();
    private final AtomicLong up = new AtomicLong(), upFloats = new AtomicLong(), down = new AtomicLong(), downFloats = new AtomicLong();

    CountingDevice(Device d) {
        this.d = d;
    }

    DeviceWork work() {
        return new DeviceWork(launches.get(), copies.get(), fills.get(), down.get(), downFloats.get(), up.get(), upFloats.get());
    }

    private void up(long n) {
        if (n == 0) {
            return;
        }
        up.incrementAndGet();
        upFloats.addAndGet(n);
    }

    private void down(long n) {
        if (n == 0) {
            return;
        }
        down.incrementAndGet();
        downFloats.addAndGet(n);
    }

    @Override
    public String api() {
        return d.api();
    }

    @Override
    public String name() {
        return d.name();
    }

    @Override
    public Buffer alloc(long floats) {
        return d.alloc(floats);
    }

    @Override
    public void free(Buffer b) {
        d.free(b);
    }

    @Override
    public void write(Buffer dst, float[] src, int off, int n) {
        up(n);
        d.write(dst, src, off, n);
    }

    @Override
    public void read(Buffer src, float[] dst, int off, int n) {
        down(n);
        d.read(src, dst, off, n);
    }

    @Override
    public void write(Buffer dst, long dstOff, float[] src, int off, int n) {
        up(n);
        d.write(dst, dstOff, src, off, n);
    }

    @Override
    public void read(Buffer src, long srcOff, float[] dst, int off, int n) {
        down(n);
        d.read(src, srcOff, dst, off, n);
    }

    @Override
    public void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n) {
        if (n > 0) {
            copies.incrementAndGet();
        }
        d.copy(src, srcOff, dst, dstOff, n);
    }

    @Override
    public void fill(Buffer dst, long off, long n, float value) {
        if (n > 0) {
            fills.incrementAndGet();
        }
        d.fill(dst, off, n, value);
    }

    @Override
    public void copy(Buffer src, Buffer dst, long floats) {
        if (floats > 0) {
            copies.incrementAndGet();
        }
        d.copy(src, dst, floats);
    }

    @Override
    public void launch(KernelCall call) {
        if (!call.grid().empty()) {
            launches.incrementAndGet();
        }
        d.launch(call);
    }

    @Override
    public void close() {
        d.close();
    }
}
