package org.aiwae.kernels;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

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
    /** Launches per kernel name, and the copies and fills under {@link #COPY} and {@link #FILL}. */
    private final Map<String, LongAdder> byKind = new ConcurrentHashMap<>();
    /** The names {@link #byKind()} gives device copies and fills (no kernel is named so). */
    static final String COPY = "(copy)", FILL = "(fill)";
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

    /**
     * The device operations issued so far by kind: launches per kernel name, copies under {@code (copy)}, fills
     * under {@code (fill)}; the values add up to {@link DeviceWork#ops()}. Sorted by name.
     */
    Map<String, Long> byKind() {
        Map<String, Long> m = new TreeMap<>();
        byKind.forEach((k, n) -> m.put(k, n.sum()));
        return m;
    }

    private void count(String kind, long n) {
        byKind.computeIfAbsent(kind, k -> new LongAdder()).add(n);
    }

    /** The device work of one replay of a recording: the operations by kind, as {@link #byKind()} counts them. */
    private static final class Recorded {
        final Map<String, Long> byKind = new java.util.HashMap<>();

        long copies() {
            return byKind.getOrDefault(COPY, 0L);
        }

        long fills() {
            return byKind.getOrDefault(FILL, 0L);
        }

        long launches() {
            return byKind.values().stream().mapToLong(Long::longValue).sum() - copies() - fills();
        }
    }

    /**
     * One device operation of {@code kind} issued: counted now in {@code total} and {@link #byKind()}, or, while the
     * calling thread records, counted in the recording (and added on each replay).
     */
    private void issued(String kind, AtomicLong total) {
        Recorded r = recording();
        if (r != null) {
            r.byKind.merge(kind, 1L, Long::sum);
        } else {
            total.incrementAndGet();
            count(kind, 1);
        }
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
            issued(COPY, copies);
        }
        d.copy(src, srcOff, dst, dstOff, n);
    }

    @Override
    public void fill(Buffer dst, long off, long n, float value) {
        if (n > 0) {
            issued(FILL, fills);
        }
        d.fill(dst, off, n, value);
    }

    @Override
    public void launch(KernelCall call) {
        if (!call.grid().empty()) {
            issued(call.name(), launches);
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
        private final Map<String, Long> byKind;
        private final DeviceWork perReplay;

        Counted(Recording inner, Recorded work) {
            this.inner = inner;
            this.byKind = work.byKind;
            this.perReplay = new DeviceWork(work.launches(), work.copies(), work.fills(), 0, 0, 0, 0, 1);
        }

        /** The device work one replay runs (one replay; no host reads or writes). */
        DeviceWork perReplay() {
            return perReplay;
        }

        @Override
        public void replay() {
            inner.replay();
            launches.addAndGet(perReplay.launches());
            copies.addAndGet(perReplay.copies());
            fills.addAndGet(perReplay.fills());
            byKind.forEach(CountingDevice.this::count);
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
