package org.aiwae.cli;

import java.util.concurrent.Callable;
import org.aiwae.engine.backend.Parallel;
import org.aiwae.kernels.Accelerators;
import picocli.CommandLine.Command;

/** {@code aiwae devices}: which backends this machine can run, or why not. */
@Command(name = "devices", header = "the backends this machine can run (cpu, opencl, cuda), or why not", description = "Lists the backends (cpu, opencl, cuda) this machine can run, or why not.")
final class DevicesCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.printf("%-7s %-6s %s%n", "backend", "usable", "device / reason");
        System.out.printf("%-7s %-6s %s%n", "cpu", "yes", Runtime.getRuntime().availableProcessors() + " cores, "
                + Parallel.threads() + " threads (AIWAE_THREADS), Java Vector API");
        for (Accelerators.Status s : Accelerators.list()) {
            System.out.printf("%-7s %-6s %s%n", s.backend(), s.usable() ? "yes" : "no", s.detail());
        }
        return 0;
    }
}
