package org.aiwae.cli;

import java.lang.management.ManagementFactory;
import java.util.HashSet;
import java.util.Set;
import org.aiwae.AiwaeException;
import org.aiwae.data.Binarizer;
import org.aiwae.data.Datasets;
import org.aiwae.data.Images;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.Parallel;
import org.aiwae.model.MlpVae;
import org.aiwae.train.Streams;
import org.aiwae.train.TrainConfig;
import org.aiwae.train.TrainingStep;

/**
 * {@code aiwae bench}: the training step's throughput for a configuration given with the same
 * flags as {@code train}, after a warm-up, in examples per second; also the bytes allocated per
 * step over all threads (a GC-free measure of the step's working memory traffic).
 */
final class BenchCommand {
    static final String USAGE = """
            usage: aiwae bench [train flags: --method --samples --temperatures --leapfrog --batch-size --latent --hidden
                                --dataset --data-dir --backend --seed] [--warmup 3] [--seconds 10]
              Times training steps on the first training images (the embedded subset by default), after --warmup
              seconds, for --seconds, and prints 'N examples/s'.""";

    private BenchCommand() {}

    static int run(String[] argv) {
        Set<String> options = new HashSet<>(TrainCommand.OPTIONS);
        options.removeAll(Set.of("--out", "--epochs", "--schedule", "--eval-samples", "--eval-images"));
        options.addAll(Set.of("--warmup", "--seconds"));
        Args a = new Args("bench", argv, 1, options, Set.of());
        if (!a.positional().isEmpty()) {
            throw new AiwaeException("bench: unexpected argument '" + a.positional().get(0) + "'");
        }
        TrainConfig config = TrainCommand.fromFlags(a);
        double warmup = seconds(a, "--warmup", 3), measure = seconds(a, "--seconds", 10);
        Backend backend = BackendChoice.resolve(config.backend());
        Backends.use(backend);
        Images train = Datasets.load(config.dataset(), a.path("--data-dir")).train();
        if (config.batchSize() > train.count()) {
            throw new AiwaeException("--batch-size " + config.batchSize() + " is larger than the " + train.count() + " training images");
        }
        MlpVae model = MlpVae.create(train.dim(), config.hidden(), config.latent(), Streams.of(config.seed(), Streams.INIT, 0, 0));
        TrainingStep step = new TrainingStep(model, TrainingStep.objective(config, backend));
        int batches = Math.min(train.count() / config.batchSize(), 16);
        Tensor[] xs = new Tensor[batches];
        for (int i = 0; i < batches; i++) {
            xs[i] = Binarizer.sample(train.slice(i * config.batchSize(), (i + 1) * config.batchSize()),
                    Streams.of(config.seed(), Streams.BINARIZE, 0, i));
        }
        System.err.printf("aiwae: bench %s, batch %d, backend %s, %d threads: warming up %.0f s, measuring %.0f s%n",
                config.label(), config.batchSize(), backend.name(), Parallel.threads(), warmup, measure);
        timed(step, xs, warmup, config.seed());
        long bytes0 = allocatedBytes();
        long[] stepsAndNanos = timed(step, xs, measure, config.seed());
        long bytes = allocatedBytes() - bytes0;
        double seconds = stepsAndNanos[1] / 1e9;
        double perSecond = stepsAndNanos[0] * (double) config.batchSize() / seconds;
        System.out.printf("%.1f examples/s  (%s, batch %d, backend %s, %d threads; %d steps in %.1f s, %.1f MB allocated per step)%n",
                perSecond, config.label(), config.batchSize(), backend.name(), Parallel.threads(), stepsAndNanos[0], seconds,
                bytes < 0 ? Double.NaN : bytes / 1e6 / stepsAndNanos[0]);
        return 0;
    }

    private static double seconds(Args a, String name, int fallback) {
        int s = a.integer(name, fallback);
        if (s < 0 || s > 3600) {
            throw new AiwaeException(name + " must be between 0 and 3600 seconds, got " + s);
        }
        return s;
    }

    /** Steps until {@code seconds} have passed (at least one): {steps, nanoseconds}. */
    private static long[] timed(TrainingStep step, Tensor[] xs, double seconds, long seed) {
        long start = System.nanoTime(), steps = 0;
        do {
            step.run(xs[(int) (steps % xs.length)], Streams.of(seed, Streams.STEP, 0, (int) steps), 1e-3);
            steps++;
        } while (System.nanoTime() - start < seconds * 1e9);
        return new long[] {steps, System.nanoTime() - start};
    }

    /** Bytes allocated so far by every live thread (HotSpot's per-thread counters), or -1 where unsupported. */
    private static long allocatedBytes() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported()) {
            long sum = 0;
            for (long b : t.getThreadAllocatedBytes(t.getAllThreadIds())) {
                sum += Math.max(b, 0);
            }
            return sum;
        }
        return -1;
    }
}
