package org.aiwae.cli;

import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.aiwae.data.Binarizer;
import org.aiwae.data.Images;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Parallel;
import org.aiwae.kernels.DeviceBackend;
import org.aiwae.kernels.WorkAudit;
import org.aiwae.model.MlpVae;
import org.aiwae.objective.Objective;
import org.aiwae.train.ModelRecipe;
import org.aiwae.train.TrainingStreams;
import org.aiwae.train.TrainConfig;
import org.aiwae.train.TrainSchedule;
import org.aiwae.train.TrainingStep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code aiwae bench}: the training step's throughput for a configuration given with the same
 * flags as {@code train}, after a warm-up, in examples per second; also the bytes allocated per
 * step over all threads (a GC-free measure of the step's working memory traffic). The model and the
 * minibatches live on the backend; the timed steps are audited ({@link WorkAudit}): on a device, a CPU
 * primitive among them (or no device op) prints one line naming what ran where instead of a figure, status 3.
 */
@Command(name = "bench", header = "training-step throughput for train's flags, in examples/s", sortOptions = false,
        description = {"Times training steps of the configuration that train's flags give, on the first training images "
                + "(the embedded subset by default), after --warmup seconds, for --seconds, and prints 'N examples/s'."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "3",
            description = "seconds of untimed steps first (0-3600); default: ${DEFAULT-VALUE}")
    int warmup;

    @Option(names = "--seconds", paramLabel = "SECONDS", defaultValue = "10",
            description = "seconds of timed steps (0-3600); default: ${DEFAULT-VALUE}")
    int seconds;

    @Option(names = "--work-breakdown", description = "on a device: also print the device operations per step by kind "
            + "(launches per kernel, copies, fills), most first")
    boolean workBreakdown;

    @Mixin
    BackendOption backendOption;

    @Mixin
    GraphOption graph;

    @Mixin
    DataDirOption dataDir;

    @Override
    public Integer call() {
        Flags.between(spec, "--warmup", warmup, 0, 3600, "seconds");
        Flags.between(spec, "--seconds", seconds, 0, 3600, "seconds");
        TrainConfig config = model.config(spec, 20, TrainSchedule.SHORT, backendOption.name, 50, 100,
                TrainConfig.PAPER_LEARNING_RATE);
        try (Backend backend = backendOption.open()) {
            Images train = dataDir.load(config.dataset()).train();
            if (config.trainLimit() > 0) {
                train = train.limit(config.trainLimit());
            }
            if (config.batchSize() > train.count()) {
                throw new ParameterException(spec.commandLine(), "--batch-size " + config.batchSize() + " is larger than the "
                        + train.count() + " training images");
            }
            MlpVae vae = ModelRecipe.PAPER.create(config, train.dim())
                    .to(backend); // the model lives on the backend; each step uploads its minibatch, as in training
            try (TrainingStep step = new TrainingStep(vae, TrainingStep.objective(config, backend)).graphs(graph.on())) {
                int batches = Math.min(train.count() / config.batchSize(), 16);
                Tensor[] xs = new Tensor[batches];
                for (int i = 0; i < batches; i++) {
                    xs[i] = Binarizer.sample(train.slice(i * config.batchSize(), (i + 1) * config.batchSize()),
                            TrainingStreams.of(config.seed(), TrainingStreams.BINARIZE, 0, i)); // on the host, as training passes them
                }
                System.err.printf("aiwae: bench %s, batch %d, backend %s, %d threads: warming up %d s, measuring %d s%n",
                        config.label(), config.batchSize(), backend.name(), Parallel.threads(), warmup, seconds);
                timed(step, xs, warmup, config.seed());
                long bytes0 = allocatedBytes(), cpu0 = threadCpuNanos();
                WorkAudit audit = WorkAudit.start(backend);
                Map<String, Long> kinds0 = backend instanceof DeviceBackend d ? d.workByKind() : Map.of();
                long[] stepsAndNanos = timed(step, xs, seconds, config.seed());
                long bytes = allocatedBytes() - bytes0, cpu = threadCpuNanos() - cpu0;
                WorkAudit.Ran ran;
                try {
                    ran = audit.check("bench " + config.label() + ", batch " + config.batchSize());
                } catch (WorkAudit.Misplaced e) {
                    System.err.println("aiwae: " + e.getMessage());
                    return 3;
                }
                double elapsed = stepsAndNanos[1] / 1e9;
                double perSecond = stepsAndNanos[0] * (double) config.batchSize() / elapsed;
                System.out.printf("%.1f examples/s  (%s, batch %d, backend %s, %d threads; %d steps in %.1f s, %.1f MB allocated per step)%n",
                        perSecond, config.label(), config.batchSize(), backend.name(), Parallel.threads(), stepsAndNanos[0], elapsed,
                        bytes < 0 ? Double.NaN : bytes / 1e6 / stepsAndNanos[0]);
                if (ran.device() != null) {
                    System.out.println(ran.device().perStep(stepsAndNanos[0]));
                    if (workBreakdown) {
                        printBreakdown(kinds0, ((DeviceBackend) backend).workByKind(), stepsAndNanos[0]);
                    }
                    System.out.printf("host time per step: %.3f ms on the calling thread's CPU, %.3f ms wall%n",
                            cpu / 1e6 / stepsAndNanos[0], stepsAndNanos[1] / 1e6 / stepsAndNanos[0]);
                }
                return 0;
            }
        }
    }

    /**
     * Steps until {@code seconds} have passed (at least one), then waits for the last one (a device step reads
     * nothing back, so the host would otherwise stop the clock with steps still queued): {steps, nanoseconds}.
     */
    private static long[] timed(TrainingStep step, Tensor[] xs, double seconds, long seed) {
        long start = System.nanoTime(), steps = 0;
        Objective.StepResult last;
        do {
            last = step.run(xs[(int) (steps % xs.length)], TrainingStreams.of(seed, TrainingStreams.STEP, 0, (int) steps), 1e-3);
            steps++;
        } while (System.nanoTime() - start < seconds * 1e9);
        last.loss(); // one host read: the device has finished every step
        return new long[] {steps, System.nanoTime() - start};
    }

    /** The device operations per step by kind between two {@link DeviceBackend#workByKind()} counts, most first. */
    private static void printBreakdown(Map<String, Long> before, Map<String, Long> after, long steps) {
        after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .forEach(e -> System.out.printf(Locale.ROOT, "  %-24s %s%n", e.getKey(),
                        e.getValue() % steps == 0 ? Long.toString(e.getValue() / steps) : String.format(Locale.ROOT, "%.1f",
                                (double) e.getValue() / steps)));
    }

    /** CPU time of the calling thread so far (it issues every launch of a device step), or 0 where unsupported. */
    private static long threadCpuNanos() {
        java.lang.management.ThreadMXBean t = ManagementFactory.getThreadMXBean();
        return t.isCurrentThreadCpuTimeSupported() ? t.getCurrentThreadCpuTime() : 0;
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
