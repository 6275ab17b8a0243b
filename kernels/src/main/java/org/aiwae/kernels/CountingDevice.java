package org.aiwae.kernels;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Device} that counts the work it passes on ({@link DeviceWork}): launches, copies, fills, host reads
 * and writes, and replays. Work issued while recording is counted when it runs: each replay adds the
 * recorded launches, copies and fills, and one replay.
 */
final class CountingDevice implements Device {
    private final Device d;
    private final AtomicLong launches = new AtomicLong(), copies = new AtomicLong(), fills = new AtomicLong();
    private final AtomicLong up = new AtomicLong(), upFloats = new AtomicLong(), down = new AtomicLong(), downFloats = new AtomicLong();
    private final AtomicLong replays = new AtomicLong();
    /** The thread recording ({@link #record}) and what it has recorded so far, or null. */
    private volatile Thread recorder;
    private Recorded recorded;

    CountingDevice(Device d) {
        this.d = d;
    }

    DeviceWork work() {
        return new DeviceWork(launches.get(), copies.get(), fills.get(), down.get(), downFloats.get(), up.get(), upFloats.get(),
                replays.get());
    }

    /** The device work of one replay of a recording. */
    private static final class Recorded {
        long launches, copies, fills;
    }

    /** What the calling thread is recording, or null when it issues work to run now. */
    private Recorded recording() {
        return recorder == Thread.currentThread() ? recorded : null;
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
    public void write(Buffer dst, long dstOff, float[] src, int off, int n) {
        d.write(dst, dstOff, src, off, n);
        up(n);
    }

    @Override
    public void read(Buffer src, long srcOff, float[] dst, int off, int n) {
        d.read(src, srcOff, dst, off, n);
        down(n);
    }

    @Override
    public void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n) {
        if (n > 0) {
            Recorded r = recording();
            if (r != null) {
                r.copies++;
            } else {
                copies.incrementAndGet();
            }
        }
        d.copy(src, srcOff, dst, dstOff, n);
    }

    @Override
    public void fill(Buffer dst, long off, long n, float value) {
        if (n > 0) {
            Recorded r = recording();
            if (r != null) {
                r.fills++;
            } else {
                fills.incrementAndGet();
            }
        }
        d.fill(dst, off, n, value);
    }

    @Override
    public void launch(KernelCall call) {
        if (!call.grid().empty()) {
            Recorded r = recording();
            if (r != null) {
                r.launches++;
            } else {
                launches.incrementAndGet();
            }
        }
        d.launch(call);
    }

    /** Records on the device, counting what is recorded; one recording at a time. */
    @Override
    public synchronized Counted record(Runnable issue) {
        if (recorder == Thread.currentThread()) {
            d.record(issue); // nested: the device says why not
            throw new IllegalStateException(d.api() + " recorded inside a recording");
        }
        Recorded r = new Recorded();
        recorded = r;
        recorder = Thread.currentThread();
        Recording inner;
        try {
            inner = d.record(issue);
        } finally {
            recorder = null;
            recorded = null;
        }
        return new Counted(inner, r);
    }

    /** A recording whose replays count as the work they run. */
    final class Counted implements Recording {
        private final Recording inner;
        private final Recorded work;

        Counted(Recording inner, Recorded work) {
            this.inner = inner;
            this.work = work;
        }

        /** The device work one replay runs (one replay; no host reads or writes). */
        DeviceWork perReplay() {
            return new DeviceWork(work.launches, work.copies, work.fills, 0, 0, 0, 0, 1);
        }

        @Override
        public void replay() {
            inner.replay();
            launches.addAndGet(work.launches);
            copies.addAndGet(work.copies);
            fills.addAndGet(work.fills);
            replays.incrementAndGet();
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    @Override
    public void close() {
        d.close();
    }
}
