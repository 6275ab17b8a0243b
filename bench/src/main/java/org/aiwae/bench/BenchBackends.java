package org.aiwae.bench;

import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;

/** Resolves a benchmark's {@code backend} parameter. */
final class BenchBackends {
    private BenchBackends() {}

    static Backend byName(String name) {
        return switch (name) {
            case "cpu" -> Backends.cpu();
            default -> throw new IllegalArgumentException("unknown backend " + name);
        };
    }
}
