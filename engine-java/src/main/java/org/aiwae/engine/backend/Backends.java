package org.aiwae.engine.backend;

import java.util.Objects;

/** The backend that autodiff ops run on: the CPU backend unless {@link #use} chose another. */
public final class Backends {
    private static volatile Backend current = CpuBackend.INSTANCE;

    private Backends() {}

    public static Backend current() {
        return current;
    }

    /** Makes {@code backend} the one every op uses from now on, in every thread. */
    public static void use(Backend backend) {
        current = Objects.requireNonNull(backend, "backend");
    }

    public static Backend cpu() {
        return CpuBackend.INSTANCE;
    }
}
