package org.aiwae.engine.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The thread split: every index once, aligned boundaries, failures reach the caller, nesting and concurrent callers. */
class ParallelTest {

    @Test
    void everyIndexOnceInAlignedRanges() {
        for (int n : new int[] {0, 1, 7, 8, 9, 640, 1001}) {
            AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(n, 1));
            ConcurrentLinkedQueue<int[]> ranges = new ConcurrentLinkedQueue<>();
            Parallel.forRange(n, 8, 1, (from, to) -> {
                ranges.add(new int[] {from, to});
                for (int i = from; i < to; i++) {
                    seen.incrementAndGet(i);
                }
            });
            for (int i = 0; i < n; i++) {
                assertEquals(1, seen.get(i), "n=" + n + " index " + i);
            }
            for (int[] r : ranges) {
                assertTrue(r[0] % 8 == 0 && r[0] < r[1], "n=" + n + " range " + r[0] + ".." + r[1]);
            }
            assertTrue(ranges.size() <= Parallel.threads());
        }
    }

    @Test
    void aFailureInAnyRangeReachesTheCallerAndTheWorkersCarryOn() {
        for (int failing = 0; failing < Parallel.threads(); failing++) {
            int f = failing;
            IllegalStateException e = new IllegalStateException("range " + f);
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.forRange(
                    Parallel.threads() * 8, 8, 8, (from, to) -> {
                        if (from / 8 == f) {
                            throw e;
                        }
                    }));
            assertSame(e, thrown);
        }
        everyIndexOnceInAlignedRanges();
    }

    @Test
    void nestedCallsRunInline() {
        AtomicIntegerArray seen = new AtomicIntegerArray(64 * 64);
        Parallel.forRange(64, 1, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                int row = i;
                Parallel.forRange(64, 1, 1, (f, t) -> {
                    for (int j = f; j < t; j++) {
                        seen.incrementAndGet(row * 64 + j);
                    }
                });
            }
        });
        for (int i = 0; i < 64 * 64; i++) {
            assertEquals(1, seen.get(i));
        }
    }

    @Test
    void concurrentCallersEachGetTheirWholeRange() throws InterruptedException {
        int callers = 4, calls = 2000, n = 96;
        AtomicIntegerArray seen = new AtomicIntegerArray(callers * n);
        List<Thread> threads = new ArrayList<>();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        for (int c = 0; c < callers; c++) {
            int base = c * n;
            Thread t = new Thread(() -> {
                try {
                    for (int k = 0; k < calls; k++) {
                        Parallel.forRange(n, 8, 8, (from, to) -> {
                            for (int i = from; i < to; i++) {
                                seen.incrementAndGet(base + i);
                            }
                        });
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(failures.isEmpty(), () -> "failures: " + failures);
        for (int i = 0; i < callers * n; i++) {
            assertEquals(calls, seen.get(i), "index " + i);
        }
    }
}
