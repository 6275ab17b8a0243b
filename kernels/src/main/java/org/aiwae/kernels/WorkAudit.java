package org.aiwae.kernels;

import java.util.Locale;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.CpuBackend;

/**
 * Where a stretch of timed work ran: the CPU backend's primitive calls ({@link CpuBackend#calls}) and, for a
 * device backend, its {@link DeviceWork}, counted from {@link #start} to {@link #check}. Work timed on a device
 * must issue device operations and run no CPU primitive (one that fell back to the host, or a model, batch or
 * optimiser state left there, would move the CPU count); work timed on the CPU must run CPU primitives.
 * {@code bin/aiwae bench} and the JMH benchmarks check every timed stretch and report no figure when it ran
 * elsewhere.
 *
 * <pre>{@code
 * WorkAudit audit = WorkAudit.start(backend);
 * ... timed work ...
 * WorkAudit.Ran ran = audit.check("IWAE K=50 step"); // throws Misplaced, one line naming what ran where
 * }</pre>
 */
public final class WorkAudit {
    private final Backend backend;
    private final long cpuCalls;
    /** The device's work at the start, or null on the CPU. */
    private final DeviceWork device;

    private WorkAudit(Backend backend) {
        this.backend = backend;
        this.cpuCalls = CpuBackend.INSTANCE.calls();
        this.device = backend instanceof DeviceBackend d ? d.work() : null;
    }

    /** Starts counting the work meant for {@code backend} (the CPU backend or a {@link DeviceBackend}). */
    public static WorkAudit start(Backend backend) {
        if (!backend.isHost() && !(backend instanceof DeviceBackend)) {
            throw new IllegalArgumentException("work audit: " + backend.name() + " is neither the CPU nor a device backend");
        }
        return new WorkAudit(backend);
    }

    /** What ran since {@link #start}: CPU primitive calls and the device's work (null on the CPU). */
    public record Ran(long cpuCalls, DeviceWork device) {}

    /**
     * The work since {@link #start}, after checking that it ran on the audited backend; otherwise a
     * {@link Misplaced} whose one-line message names {@code what}, the backend it was meant for, and what ran where.
     */
    public Ran check(String what) {
        long cpu = CpuBackend.INSTANCE.calls() - cpuCalls;
        if (device == null) {
            if (cpu == 0) {
                throw new Misplaced(what + ": the timed work ran no primitive on cpu (its tensors live on a device); no figure reported");
            }
            return new Ran(cpu, null);
        }
        DeviceWork work = ((DeviceBackend) backend).work().since(device);
        String api = backend.name();
        if (cpu > 0) {
            throw new Misplaced(what + ": the timed work meant for " + api + " ran " + count(cpu) + " primitive calls on cpu beside "
                    + count(work.ops()) + " " + api + " ops (a tensor of the model, the batch or the optimiser state lives on the "
                    + "host, or an op fell back to it); no figure reported");
        }
        if (work.ops() == 0) {
            throw new Misplaced(what + ": the timed work meant for " + api + " issued no " + api + " op (" + work
                    + "); no figure reported");
        }
        return new Ran(0, work);
    }

    private static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** Timed work that ran elsewhere than on the backend it was meant for. */
    public static final class Misplaced extends IllegalStateException {
        Misplaced(String message) {
            super(message);
        }
    }
}
