package org.aiwae.kernels;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Device buffers for tensors, recycled: a tensor's buffer goes back to the pool when the tensor
 * (with all its views) is no longer reachable (a {@link java.lang.ref.Cleaner} hands it back), and
 * the next tensor of the same size class takes it instead of a fresh device allocation. Sizes are
 * rounded up to a power of two from 256 floats, so a training step that repeats the same shapes
 * allocates nothing new on the device after its first pass. When the buffers in use pass the
 * budget, the pool asks the JVM to collect unreachable tensors before it allocates more.
 */
public final class BufferPool {
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

    /** What the pool has done so far. */
    public record Stats(long deviceAllocations, long reuses, long liveFloats, long cachedFloats) {}

    static long sizeClass(long floats) {
        long c = MIN_FLOATS;
        while (c < floats) {
            c <<= 1;
        }
        return c;
    }

    synchronized Device.Buffer take(long floats) {
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

    /** Called from the cleaner thread (or directly) when a tensor's buffer is unreachable. */
    void giveBack(Device.Buffer b) {
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

    synchronized Stats stats() {
        drain();
        return new Stats(allocations, reuses, live, cached);
    }

    /** Frees every cached buffer; buffers still held by tensors die with the device's context. */
    synchronized void close() {
        drain();
        releaseCached();
        closed = true;
    }
}
