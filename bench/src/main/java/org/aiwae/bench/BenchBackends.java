package org.aiwae.bench;

import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;

/** Resolves a benchmark's {@code backend} parameter: cpu, opencl or cuda (e.g. {@code -p backend=cpu,opencl}). */
final class BenchBackends {
    private BenchBackends() {}

    static Backend byName(String name) {
        return switch (name) {
            case "cpu" -> Backends.cpu();
            case "opencl", "cuda" -> org.aiwae.kernels.Accelerators.open(name);
            default -> throw new IllegalArgumentException("unknown backend " + name);
        };
    }
}
