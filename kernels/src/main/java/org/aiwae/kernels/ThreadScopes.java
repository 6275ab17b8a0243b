package org.aiwae.kernels;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.aiwae.engine.backend.Backend;

/**
 * What one {@link DeviceBackend}'s work on the calling thread runs inside: a recording ({@link DeviceBackend#record}),
 * which holds every pooled buffer its code makes or uses; a temperature clock binding ({@link DeviceBackend#clocked}),
 * from which the tempered launches take their per-step scalars; and the open {@link DeviceBackend#reclaim} scopes, each
 * with the buffers made in it. Each is per thread and per backend.
 */
final class ThreadScopes {
    /** The backend's name, for messages. */
    private final String name;
    /** The recording the calling thread runs ({@link #record}), if any. */
    private final ThreadLocal<Recorder> recorder = new ThreadLocal<>();
    /** How many threads record now: when none does, a buffer's use costs one read of this. */
    private final AtomicInteger recording = new AtomicInteger();
    private final ThreadLocal<Clocked> clocked = new ThreadLocal<>();
    /** This thread's open {@link #reclaim} scopes, innermost first, each with the buffers made in it. */
    private final ThreadLocal<ArrayDeque<List<BufferPool.Lease>>> scopes = ThreadLocal.withInitial(ArrayDeque::new);

    ThreadScopes(String name) {
        this.name = name;
    }

    // ---------------------------------------------------------------- recording

    /** The buffers a recording holds: every pooled buffer its code made or used. */
    private static final class Recorder {
        final Set<BufferPool.Lease> held = new HashSet<>();

        void hold(BufferPool.Lease lease) {
            if (held.add(lease)) {
                lease.hold();
            }
        }

        void release() {
            held.forEach(BufferPool.Lease::unhold);
            held.clear();
        }
    }

    /** The buffer of {@code lease}, held by the calling thread's recording if it records. */
    Device.Buffer use(BufferPool.Lease lease) {
        if (recording.get() != 0) {
            Recorder r = recorder.get();
            if (r != null) {
                r.hold(lease);
            }
        }
        return lease.buffer();
    }

    /** {@link DeviceBackend#record}: {@code code} run once on {@code device} while recording, as a graph. */
    <T> DeviceGraph<T> record(CountingDevice device, Supplier<T> code) {
        if (recorder.get() != null) {
            throw new IllegalStateException("a recording inside a recording on " + name + ": recordings do not nest");
        }
        Recorder r = new Recorder();
        var result = new Object() {
            T value;
        };
        CountingDevice.Counted recorded;
        recorder.set(r);
        recording.incrementAndGet();
        try {
            recorded = device.record(() -> result.value = code.get());
        } catch (RuntimeException | Error e) {
            r.release();
            throw e;
        } finally {
            recording.decrementAndGet();
            recorder.remove();
        }
        return new DeviceGraph<>(recorded, result.value, recorded.perReplay(), r::release);
    }

    // ---------------------------------------------------------------- the temperature clock

    /** The temperature clock this thread's launches read from ({@link #bind}): the step the host is at, the Philox blocks per step. */
    record Clocked(TemperatureClock clock, int step, long blocksPerStep) {}

    /** {@link DeviceBackend#clocked} on {@code owner}. */
    DeviceBackend.ClockBinding bind(Backend owner, TemperatureClock clock, int step, long blocksPerStep) {
        if (clock.backend() != owner || step < 0 || step >= clock.steps() || blocksPerStep < 0) {
            throw new IllegalArgumentException("a temperature clock of " + clock.backend().name() + " bound on " + name + " at step " + step
                    + " of " + clock.steps() + " (" + blocksPerStep + " Philox blocks per step)");
        }
        if (clocked.get() != null) {
            throw new IllegalStateException("a temperature clock bound inside a binding on " + name);
        }
        clocked.set(new Clocked(clock, step, blocksPerStep));
        return clocked::remove;
    }

    /** The clock bound on this thread, or null. */
    Clocked clocked() {
        return clocked.get();
    }

    /** The bound clock's buffer after checking that {@code value} is its {@code k}-th value at the host's step; null when none is bound. */
    Device.Buffer clock(String what, int k, float value) {
        Clocked c = clocked.get();
        if (c == null) {
            return null;
        }
        float expected = c.clock().value(c.step(), k);
        if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(value)) {
            throw new IllegalStateException(what + " " + value + " at step " + c.step() + " of a temperature clock that holds " + expected
                    + " there: the launch would not replay the schedule");
        }
        return c.clock().buffer();
    }

    /** Fails while a temperature clock is bound: {@code what} has a scalar the clock does not advance. */
    void requireUnclocked(String what) {
        if (clocked.get() != null) {
            throw new IllegalStateException(what + " under a temperature clock on " + name + ": its position would not advance from step to step");
        }
    }

    // ---------------------------------------------------------------- reclaim scopes

    /** Adds a buffer just made to the innermost open reclaim scope, if one is open. */
    void made(BufferPool.Lease lease) {
        ArrayDeque<List<BufferPool.Lease>> open = scopes.get();
        if (!open.isEmpty()) {
            open.peek().add(lease);
        }
    }

    /** {@link DeviceBackend#reclaim}. */
    Backend.Reclaim reclaim() {
        ArrayDeque<List<BufferPool.Lease>> open = scopes.get();
        List<BufferPool.Lease> made = new ArrayList<>();
        open.push(made);
        return () -> {
            if (open.peek() != made) {
                throw new IllegalStateException("reclaim scopes closed out of order");
            }
            open.pop();
            made.forEach(BufferPool.Lease::release);
        };
    }
}
