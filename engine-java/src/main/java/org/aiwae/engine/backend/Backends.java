package org.aiwae.engine.backend;

import java.util.Objects;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;

/**
 * Which backend runs an op. There is no process-wide choice: an op runs on the backend its
 * operands live on ({@link #of}), and operands on two different backends are an error naming
 * both. Functions that create tensors from nothing (zeros, noise) take the backend of the data
 * they go with, or of the calling thread's scope ({@link #current}, set like
 * {@code NoGrad} with {@link #using}; the CPU when no scope is open).
 */
public final class Backends {
    private static final ThreadLocal<Backend> SCOPE = new ThreadLocal<>();

    private Backends() {}

    public static Backend cpu() {
        return CpuBackend.INSTANCE;
    }

    /** The backend of this thread's innermost {@link #using} scope, else the CPU. */
    public static Backend current() {
        Backend b = SCOPE.get();
        return b == null ? CpuBackend.INSTANCE : b;
    }

    /**
     * Makes {@code backend} this thread's {@link #current} backend until the scope is closed:
     * {@code try (Backends.Scope s = Backends.using(opencl)) { ... }}. Scopes nest.
     */
    public static Scope using(Backend backend) {
        Scope s = new Scope(SCOPE.get());
        SCOPE.set(Objects.requireNonNull(backend, "backend"));
        return s;
    }

    /** A {@link #using} scope; closing it restores the enclosing one. */
    public static final class Scope implements AutoCloseable {
        private final Backend previous;

        private Scope(Backend previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            if (previous == null) {
                SCOPE.remove();
            } else {
                SCOPE.set(previous);
            }
        }
    }

    /** The backend whose memory {@code placement} is. */
    public static Backend of(Placement placement) {
        if (placement.isHost()) {
            return CpuBackend.INSTANCE;
        }
        if (placement instanceof Backend b) {
            return b;
        }
        throw new IllegalStateException("no backend computes on " + placement.name());
    }

    /** The backend {@code a} lives on. */
    public static Backend of(Tensor a) {
        return a.onHost() ? CpuBackend.INSTANCE : of(a.placement());
    }

    /** The backend both operands of {@code op} live on; an error naming both when they differ. */
    public static Backend of(String op, Tensor a, Tensor b) {
        if (a.onHost() && b.onHost()) {
            return CpuBackend.INSTANCE;
        }
        Placement pa = a.placement(), pb = b.placement();
        if (pa != pb) {
            throw mixed(op, a, b);
        }
        return of(pa);
    }

    /** The error for operands on two backends. */
    public static IllegalArgumentException mixed(String op, Tensor a, Tensor b) {
        return new IllegalArgumentException(op + ": operands on two backends: " + Shapes.str(a.shape()) + " on "
                + a.placement().name() + " and " + Shapes.str(b.shape()) + " on " + b.placement().name() + "; move one with to()");
    }

    /** Checks that every tensor lives on {@code backend} (the backend's primitives call this). */
    public static void require(String op, Backend backend, Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null && (backend.isHost() ? !t.onHost() : t.placement() != backend)) {
                throw new IllegalArgumentException(op + ": " + backend.name() + " was given a tensor of shape "
                        + Shapes.str(t.shape()) + " on " + t.placement().name() + "; move it with to()");
            }
        }
    }
}
