package org.aiwae.cli;

import org.aiwae.AiwaeException;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;

/** Resolves {@code --backend}. */
final class BackendChoice {
    private BackendChoice() {}

    static Backend resolve(String name) {
        return switch (name) {
            case "cpu", "auto" -> Backends.cpu();
            case "opencl", "cuda" -> throw new AiwaeException("--backend " + name + " is not available in this build; use cpu");
            default -> throw new AiwaeException("unknown backend '" + name + "'; choose cpu, opencl, cuda or auto");
        };
    }
}
