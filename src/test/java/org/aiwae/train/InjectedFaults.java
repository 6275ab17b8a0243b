package org.aiwae.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.aiwae.FaultInjector;

/**
 * The tests' {@link FaultInjector} (a service of the test classpath only): what it does is the system property
 * {@value #PROPERTY} of the process it runs in, which a test gives the JVM it starts ({@link #option}); comma-separated
 * faults, each once per folder (a marker file in the folder says it happened, so the retried attempt runs through):
 * <ul>
 *   <li>{@code fail-after-epoch:E@FOLDER}: a training fails once it published epoch E's checkpoint (marker {@value #FAILED});
 *   <li>{@code pause-in-epoch:E@FOLDER}: a training waits to be killed after epoch E's first minibatch (marker {@value #PAUSED}
 *       holding pid@host);
 *   <li>{@code pause-after-batch@FOLDER}: an evaluation waits to be killed after its first batch is written (marker {@value #PAUSED}).
 * </ul>
 * FOLDER is the end of the run's or the evaluation's folder path, e.g. a grid cell {@code embedded-iwae-k2/seed-4}.
 */
public final class InjectedFaults implements FaultInjector {
    public static final String PROPERTY = "aiwae.test.faults";
    /** The marker of an injected failure. */
    public static final String FAILED = ".test-failed-once";
    /** The marker of a pause, holding pid@host of the process that waits to be killed. */
    public static final String PAUSED = ".test-paused-once";
    /** How long a paused process waits to be killed before it carries on. */
    static final int PAUSE_SECONDS = 300;

    /** The JVM option that installs {@code faults}. */
    public static String option(String... faults) {
        return "-D" + PROPERTY + "=" + String.join(",", faults);
    }

    public static String failAfterEpoch(int epoch, String folder) {
        return "fail-after-epoch:" + epoch + "@" + folder;
    }

    public static String pauseInEpoch(int epoch, String folder) {
        return "pause-in-epoch:" + epoch + "@" + folder;
    }

    public static String pauseAfterBatch(String folder) {
        return "pause-after-batch@" + folder;
    }

    /** The files of this service, relative to the test classes: what a cluster's executors need to load it. */
    public static List<String> files() {
        List<String> out = new ArrayList<>(List.of("META-INF/services/" + FaultInjector.class.getName()));
        out.add(InjectedFaults.class.getName().replace('.', '/') + ".class");
        return out;
    }

    @Override
    public void reached(Point point) {
        String faults = System.getProperty(PROPERTY);
        if (faults == null || faults.isBlank()) {
            return;
        }
        for (String f : faults.split(",")) {
            int at = f.indexOf('@');
            String action = f.substring(0, at), folder = f.substring(at + 1);
            switch (point) {
                case Point.Published p when p.run().endsWith(folder) && action.equals("fail-after-epoch:" + p.epoch()) -> {
                    if (mark(p.run().resolve(FAILED))) {
                        throw new IllegalStateException("injected failure after epoch " + p.epoch() + " (test fault)");
                    }
                }
                case Point.EpochBegun b when b.run().endsWith(folder) && action.equals("pause-in-epoch:" + b.epoch()) ->
                        pause(b.run().resolve(PAUSED));
                case Point.BatchWritten w when w.out().endsWith(folder) && action.equals("pause-after-batch") -> pause(w.out().resolve(PAUSED));
                default -> {}
            }
        }
    }

    /** Creates {@code marker} with this process's pid@host unless it exists; whether it did. */
    private static boolean mark(Path marker) {
        if (Files.exists(marker)) {
            return false;
        }
        try {
            Files.writeString(marker, ProcessHandle.current().pid() + "@" + RunLock.host() + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return true;
    }

    /** The first time: marks and waits (at most {@value #PAUSE_SECONDS} s) to be killed; then nothing. */
    private static void pause(Path marker) {
        if (mark(marker)) {
            try {
                Thread.sleep(PAUSE_SECONDS * 1000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
