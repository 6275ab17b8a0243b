package org.aiwae.engine.backend;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * Splits work over a fixed set of threads: the caller plus {@code threads() - 1} daemon workers.
 *
 * <p>The count is {@code -Daiwae.threads}, else the environment variable {@code AIWAE_THREADS},
 * else the number of available processors. Calls made from inside a worker run inline, so
 * kernels can nest without oversubscribing the machine.
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

    private static final int THREADS = configuredThreads();
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS - 1, pool -> {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setDaemon(true);
        t.setName("aiwae-worker-" + t.getPoolIndex());
        return t;
    }, null, false) : null;

    private Parallel() {}

    public static int threads() {
        return THREADS;
    }

    private static int configuredThreads() {
        String p = System.getProperty("aiwae.threads", System.getenv("AIWAE_THREADS"));
        if (p != null && !p.isBlank()) {
            try {
                int n = Integer.parseInt(p.trim());
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // fall through to the processor count
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@code threads()} contiguous ranges whose
     * boundaries are multiples of {@code align}; ranges smaller than {@code minPerThread} are merged.
     */
    public static void forRange(int n, int align, int minPerThread, RangeBody body) {
        int parts = Math.min(THREADS, Math.max(1, n / Math.max(minPerThread, 1)));
        if (parts <= 1 || POOL == null || Thread.currentThread() instanceof ForkJoinWorkerThread) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        int units = (n + align - 1) / align;
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[parts - 1];
        int[] bounds = new int[parts + 1];
        for (int p = 0; p <= parts; p++) {
            bounds[p] = Math.min(n, (int) ((long) units * p / parts) * align);
        }
        for (int p = 1; p < parts; p++) {
            int from = bounds[p];
            int to = bounds[p + 1];
            tasks[p - 1] = POOL.submit(() -> {
                if (from < to) {
                    body.run(from, to);
                }
            });
        }
        if (bounds[0] < bounds[1]) {
            body.run(bounds[0], bounds[1]);
        }
        for (ForkJoinTask<?> t : tasks) {
            t.join();
        }
    }
}
