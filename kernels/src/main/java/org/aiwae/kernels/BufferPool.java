package org.aiwae.kernels;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A {@link DeviceBackend}'s device buffers, recycled: each is handed out as a {@link Lease}, which gives it
 * back once (a tensor's when the tensor, with all its views, is no longer reachable or its reclaim scope
 * closes: {@link PooledStorage}), and the next lease of the same size class takes it instead of a fresh device
 * allocation. Sizes are rounded up to a power of two from 256 floats, so a training step that repeats the same
 * shapes allocates nothing new on the device after its first pass. When the buffers in use pass the budget,
 * the pool asks the JVM to collect unreachable tensors before it allocates more.
 */
final class BufferPool {
    private static final long MIN_FLOATS = 256;

    private final Device device;
    private final long budgetFloats;
    private final Map<Long, ArrayDeque<Device.Buffer>> free = new HashMap<>();
    private final ConcurrentLinkedQueue<Device.Buffer> returned = new ConcurrentLinkedQueue<>();
    private long live;      // floats in buffers handed out and not yet returned
    private long cached;    // floats in free buffers
    private long allocations;
    private long reuses;
    private boolean closed;

    BufferPool(Device device, long budgetFloats) {
        this.device = device;
        this.budgetFloats = budgetFloats;
    }

    static long sizeClass(long floats) {
        long c = MIN_FLOATS;
        while (c < floats) {
            c <<= 1;
        }
        return c;
    }

    /**
     * A pooled buffer and whether it went back to the pool (shared with a tensor's cleaner, which must not hold
     * the tensor's storage), and the recordings that hold it: while any does, a release waits for the last to let go.
     */
    final class Lease {
        private final Device.Buffer buffer;
        private volatile boolean returned;
        private int holds;
        private boolean released;

        private Lease(Device.Buffer buffer) {
            this.buffer = buffer;
        }

        Device.Buffer buffer() {
            return buffer;
        }

        /** Whether the buffer went back to the pool: any use afterwards is an error. */
        boolean returned() {
            return returned;
        }

        /** Hands the buffer back to the pool, once; while recordings hold it, when the last lets go. */
        synchronized void release() {
            if (returned) {
                return;
            }
            if (holds > 0) {
                released = true;
                return;
            }
            returned = true;
            giveBack(buffer);
        }

        /** A recording uses the buffer: it stays out of the pool until {@link #unhold}. */
        synchronized void hold() {
            holds++;
        }

        synchronized void unhold() {
            if (--holds == 0 && released) {
                released = false;
                release();
            }
        }
    }

    /** A buffer of at least {@code floats} floats, from the pool or a new device allocation. */
    Lease take(long floats) {
        return new Lease(buffer(floats));
    }

    private synchronized Device.Buffer buffer(long floats) {
        drain();
        long c = sizeClass(floats);
        ArrayDeque<Device.Buffer> q = free.get(c);
        if (q != null && !q.isEmpty()) {
            reuses++;
            cached -= c;
            live += c;
            return q.pop();
        }
        if (live + c > budgetFloats) {
            collect();
            q = free.get(c);
            if (q != null && !q.isEmpty()) {
                reuses++;
                cached -= c;
                live += c;
                return q.pop();
            }
        }
        Device.Buffer b;
        try {
            b = device.alloc(c);
        } catch (RuntimeException outOfMemory) {
            collect();
            releaseCached();
            b = device.alloc(c);
        }
        allocations++;
        live += c;
        return b;
    }

    /** Called from the cleaner thread (or directly) when a lease releases its buffer. */
    private void giveBack(Device.Buffer b) {
        returned.add(b);
    }

    private void drain() {
        Device.Buffer b;
        while ((b = returned.poll()) != null) {
            long c = b.floats();
            live -= c;
            if (closed) {
                continue;
            }
            free.computeIfAbsent(c, k -> new ArrayDeque<>()).push(b);
            cached += c;
        }
    }

    /** Runs the collector so that unreachable tensors hand their buffers back, then takes them. */
    private void collect() {
        System.gc();
        try {
            Thread.sleep(5); // the cleaner thread enqueues the buffers
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        drain();
    }

    private void releaseCached() {
        for (ArrayDeque<Device.Buffer> q : free.values()) {
            for (Device.Buffer b : q) {
                device.free(b);
            }
        }
        free.clear();
        cached = 0;
    }

    synchronized DeviceBackend.PoolStats stats() {
        drain();
        return new DeviceBackend.PoolStats(allocations, reuses, live, cached);
    }

    /** Frees every cached buffer; buffers still held by tensors die with the device's context. */
    synchronized void close() {
        drain();
        releaseCached();
        closed = true;
    }
}
