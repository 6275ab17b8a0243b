package org.aiwae.bench;

import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.kernels.Accelerators;
import org.aiwae.kernels.DeviceBackend;
import org.aiwae.kernels.WorkAudit;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * What every benchmark shares: the backend its {@code backend} parameter names (cpu, opencl or cuda, e.g.
 * {@code -p backend=cpu,opencl}), on which the benchmark's setup puts everything the timed work touches (model,
 * data, optimiser state, chains), and the audit of each iteration, warm-up ones included ({@link WorkAudit}): an
 * iteration in which a primitive ran on the CPU while the backend is a device, or no device op was issued, fails
 * the benchmark with one line naming what ran where, so JMH reports no figure for it. Its JMH settings (throughput
 * per second, 3 warm-up and 5 measured iterations of 1 s, one fork) hold for every benchmark that does not set its own.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public abstract class OnBackend {

    @Param({"cpu"})
    public String backend;

    /** The backend, after {@link #open()}. */
    protected Backend be;
    private WorkAudit audit;

    /** Opens the backend {@link #backend} names; the benchmark's setup calls this first. */
    protected final Backend open() {
        be = switch (backend) {
            case "cpu" -> Backends.cpu();
            case "opencl", "cuda" -> Accelerators.open(backend);
            default -> throw new IllegalArgumentException("unknown backend " + backend + " (cpu, opencl or cuda)");
        };
        return be;
    }

    /** {@link #open()} for a benchmark of device work: the backend must be a device ({@code what} names the benchmark). */
    protected final DeviceBackend openDevice(String what) {
        if (!(open() instanceof DeviceBackend device)) {
            throw new IllegalArgumentException(what + " times device work: -p backend=opencl or cuda, not " + backend);
        }
        return device;
    }

    @Setup(Level.Iteration)
    public void startAudit() {
        audit = WorkAudit.start(be);
    }

    @TearDown(Level.Iteration)
    public void checkAudit(BenchmarkParams params) {
        StringBuilder what = new StringBuilder(params.getBenchmark().replaceFirst(".*\\.(\\w+\\.\\w+)$", "$1")).append(" {");
        for (String key : params.getParamsKeys()) {
            what.append(what.charAt(what.length() - 1) == '{' ? "" : ", ").append(key).append('=').append(params.getParam(key));
        }
        ran(what.append('}').toString());
    }

    /** What ran since {@link #startAudit}, after checking it ran on the backend (else {@link WorkAudit.Misplaced}). */
    final WorkAudit.Ran ran(String what) {
        return audit.check(what);
    }
}
