package org.aiwae.cli;

import org.aiwae.AiwaeException;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.kernels.Accelerators;
import org.aiwae.kernels.BackendUnavailableException;
import org.aiwae.kernels.DeviceBackend;

/** Resolves {@code --backend}: cpu, opencl, cuda, or auto (CUDA, then an OpenCL GPU, then the CPU). */
final class BackendChoice {
    private BackendChoice() {}

    static Backend resolve(String name) {
        try {
            return switch (name) {
                case "cpu" -> Backends.cpu();
                case "opencl", "cuda" -> announce(Accelerators.open(name));
                case "auto" -> {
                    DeviceBackend d = Accelerators.auto();
                    yield d == null ? Backends.cpu() : announce(d);
                }
                default -> throw new AiwaeException("unknown backend '" + name + "'; choose cpu, opencl, cuda or auto");
            };
        } catch (BackendUnavailableException e) {
            throw new AiwaeException("--backend " + name + ": " + e.getMessage() + " (run 'aiwae devices')");
        }
    }

    private static Backend announce(DeviceBackend d) {
        System.err.println("aiwae: backend " + d.name() + " on " + d.device().name());
        return d;
    }
}
