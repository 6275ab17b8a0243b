package org.aiwae.train;

import java.io.PrintStream;
import java.nio.file.Path;
import org.aiwae.AiwaeException;
import org.aiwae.data.Datasets;
import org.aiwae.engine.backend.Backends;

/**
 * A training run in its own JVM, for the crash tests: {@code CrashChild OUT new|resume [POINT [halt|pause]]}
 * trains {@link CrashSafetyTest#CONFIG} into OUT and, at probe point POINT (see {@link TrainHooks#probe}),
 * either halts the JVM at once (as kill -9 would: no finally blocks, no shutdown hooks) or prints
 * {@code paused at POINT} and sleeps, holding the run's lock, until it is killed. Exit 2 with one
 * line for a refused run, as the command line does.
 */
final class CrashChild {
    private CrashChild() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        boolean resume = args[1].equals("resume");
        String stop = args.length > 2 ? args[2] : "";
        boolean pause = args.length > 3 && args[3].equals("pause");
        TrainHooks hooks = new TrainHooks() {
            @Override
            public void probe(String point) {
                if (!point.equals(stop)) {
                    return;
                }
                if (!pause) {
                    Runtime.getRuntime().halt(137);
                }
                System.out.println("paused at " + point);
                System.out.flush();
                try {
                    Thread.sleep(Long.MAX_VALUE);
                } catch (InterruptedException e) {
                    Runtime.getRuntime().halt(137);
                }
            }
        };
        try {
            new Trainer(CrashSafetyTest.CONFIG, Datasets.embedded(), Backends.cpu(), out, resume,
                    new PrintStream(java.io.OutputStream.nullOutputStream())).hooks(hooks).run();
        } catch (AiwaeException e) {
            System.err.println("aiwae: " + e.getMessage());
            System.exit(2);
        }
        System.exit(0);
    }
}
