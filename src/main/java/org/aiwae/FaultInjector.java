package org.aiwae;

import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Points where a test may fail or pause a training or an evaluation that runs in another process (a
 * child JVM, a Spark executor): each point names the folder being written. The application ships no
 * implementation; a test puts one on the classpath of the processes it starts ({@link ServiceLoader},
 * {@code META-INF/services/org.aiwae.FaultInjector}), so no flag or environment variable of the
 * application exists for tests. An implementation may throw (an injected failure) or block (a kill test
 * waiting to be killed).
 */
public interface FaultInjector {
    /** A point a run passes. */
    sealed interface Point {
        /** A training into {@code run} published the checkpoint of epoch {@code epoch} (1-based) and pruned the older ones. */
        record Published(Path run, int epoch) implements Point {}

        /** A training into {@code run} updated the first minibatch of epoch {@code epoch} (1-based, any attempt). */
        record EpochBegun(Path run, int epoch) implements Point {}

        /** An evaluation into {@code out} appended a batch of per-image results. */
        record BatchWritten(Path out) implements Point {}
    }

    /** Called each time a run reaches {@code point}. */
    void reached(Point point);

    /** Tells every installed injector (none in the application) that {@code point} was reached. */
    static void reach(Point point) {
        for (FaultInjector f : InstalledFaults.ALL) {
            f.reached(point);
        }
    }
}

/** The injectors on {@link FaultInjector}'s classpath, found once. */
final class InstalledFaults {
    static final List<FaultInjector> ALL =
            ServiceLoader.load(FaultInjector.class, FaultInjector.class.getClassLoader()).stream().map(ServiceLoader.Provider::get).toList();

    private InstalledFaults() {}
}
