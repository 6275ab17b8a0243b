package org.aiwae.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * The CPU time the benchmark thread spends per operation, beside JMH's wall-clock score: on a loaded machine, or
 * where a device runs its work on the same cores (PoCL), the wall clock mixes in other work; the issuing
 * thread's own CPU time is the host cost. Each timed invocation is bracketed by {@link #start} and
 * {@link #stop}; {@link #report} prints one line per iteration and starts over.
 */
final class HostCpu {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private long nanos, ops, started;

    void start() {
        started = THREADS.getCurrentThreadCpuTime();
    }

    void stop(long operations) {
        nanos += THREADS.getCurrentThreadCpuTime() - started;
        ops += operations;
    }

    /** Prints {@code host CPU per <what>: X us (calling thread, N ops)} for the iteration so far, and resets. */
    void report(String what) {
        if (ops > 0) {
            System.out.printf(Locale.ROOT, "host CPU per %s: %.3f us (calling thread, %d ops)%n", what, nanos / 1e3 / ops, ops);
        }
        nanos = 0;
        ops = 0;
    }
}
