package org.aiwae.engine.backend;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits work over a fixed set of threads: the caller plus {@code threads() - 1} daemon workers.
 *
 * <p>The count is {@code -Daiwae.threads}, else the environment variable {@code AIWAE_THREADS},
 * else the number of available processors. Calls made from inside a worker run inline, so
 * kernels can nest without oversubscribing the machine; so does a call made while another thread
 * holds the workers.
 *
 * <p>Hand-off: a training step makes a few hundred calls, many of them a few hundred microseconds
 * long, so waking a parked thread for each (tens of microseconds on a virtual machine) would cost
 * several percent. A worker therefore spins for {@value #SPIN_NANOS} ns after its last range before it
 * parks, and the caller spins while it waits for the workers, as OpenMP runtimes do; with more threads
 * than processors (e.g. {@code AIWAE_THREADS=16} on 2 cores) nobody spins: workers park at once and the
 * caller yields.
 *
 * <p>Determinism contract: a body must compute each output from its own inputs only (rows of a product,
 * elements of a map, rows through the decoder), never a partial result that is later combined with
 * another range's, so results are the same bits whatever {@code threads()} is and wherever the range
 * boundaries fall.
 */
public final class Parallel {
    /** Ranges of [from, to) handed to one thread. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /** How long a worker waits for the next range, spinning, before it parks. */
    static final long SPIN_NANOS = 1_000_000;

    private static final int THREADS = configuredThreads();
    /** Whether waiting threads spin: only when every thread can have a processor. */
    private static final boolean SPIN = THREADS <= Runtime.getRuntime().availableProcessors();
    private static final Pool POOL = THREADS > 1 ? new Pool(THREADS - 1) : null;

    private Parallel() {}

    public static int threads() {
        return THREADS;
    }

    private static int configuredThreads() {
        String p = ThreadSetting.value();
        if (p != null) {
            try {
                return ThreadSetting.parse(p);
            } catch (IllegalArgumentException ignored) {
                // fall through to the processor count
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@code threads()} contiguous ranges whose
     * boundaries are multiples of {@code align}; ranges smaller than {@code minPerThread} are merged.
     * An exception thrown by any range is rethrown here once every range has ended.
     */
    public static void forRange(int n, int align, int minPerThread, RangeBody body) {
        int parts = Math.min(THREADS, Math.max(1, n / Math.max(minPerThread, 1)));
        if (parts <= 1 || POOL == null || Thread.currentThread() instanceof Worker || !POOL.busy.compareAndSet(false, true)) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        try {
            int units = (n + align - 1) / align;
            int[] bounds = new int[parts + 1];
            for (int p = 0; p <= parts; p++) {
                bounds[p] = Math.min(n, (int) ((long) units * p / parts) * align);
            }
            POOL.run(bounds, parts, body);
        } finally {
            POOL.busy.set(false);
        }
    }

    /** The workers and the state of the one call they serve at a time. */
    private static final class Pool {
        final Worker[] workers;
        /** Held by the thread whose call the workers serve. */
        final AtomicBoolean busy = new AtomicBoolean();
        /** Ranges handed out and not yet finished. */
        final AtomicInteger remaining = new AtomicInteger();
        volatile Throwable failure;

        Pool(int size) {
            workers = new Worker[size];
            for (int i = 0; i < size; i++) {
                workers[i] = new Worker(this, i);
                workers[i].start();
            }
        }

        void run(int[] bounds, int parts, RangeBody body) {
            failure = null;
            remaining.set(parts - 1);
            for (int p = 1; p < parts; p++) {
                workers[p - 1].give(body, bounds[p], bounds[p + 1]);
            }
            Throwable own = null;
            try {
                if (bounds[0] < bounds[1]) {
                    body.run(bounds[0], bounds[1]);
                }
            } catch (Throwable t) {
                own = t;
            }
            for (int spins = 0; remaining.get() > 0; spins++) {
                if (spins < 1 << 16) {
                    if (SPIN) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield();
                    }
                } else {
                    LockSupport.parkNanos(this, 10_000);
                }
            }
            Throwable t = own != null ? own : failure;
            if (t instanceof RuntimeException e) {
                throw e;
            } else if (t instanceof Error e) {
                throw e;
            } else if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }

    /** A daemon thread that runs the ranges it is given, spinning for a while between them. */
    private static final class Worker extends Thread {
        private final Pool pool;
        private volatile RangeBody body;
        private volatile boolean parked;
        private int from;
        private int to;

        Worker(Pool pool, int index) {
            super("aiwae-worker-" + index);
            this.pool = pool;
            setDaemon(true);
        }

        /** Hands over one range (the volatile write of the body publishes the bounds). */
        void give(RangeBody b, int f, int t) {
            from = f;
            to = t;
            body = b;
            if (parked) {
                LockSupport.unpark(this);
            }
        }

        @Override
        public void run() {
            while (true) {
                RangeBody b = next();
                try {
                    if (from < to) {
                        b.run(from, to);
                    }
                } catch (Throwable t) {
                    pool.failure = t;
                } finally {
                    body = null;
                    pool.remaining.decrementAndGet();
                }
            }
        }

        private RangeBody next() {
            long start = System.nanoTime();
            RangeBody b;
            while ((b = body) == null && SPIN && System.nanoTime() - start < SPIN_NANOS) {
                Thread.onSpinWait();
            }
            while (b == null) {
                parked = true;
                if ((b = body) == null) {
                    LockSupport.park(this);
                    b = body;
                }
                parked = false;
            }
            return b;
        }
    }
}
