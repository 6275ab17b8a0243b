package org.aiwae.engine.autodiff;

/**
 * A scope in which ops record no graph: pure evaluation, as in {@code torch.no_grad()}.
 *
 * <pre>{@code try (NoGrad ignored = NoGrad.enter()) { ... } }</pre>
 */
public final class NoGrad implements AutoCloseable {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private NoGrad() {}

    public static NoGrad enter() {
        DEPTH.get()[0]++;
        return new NoGrad();
    }

    public static boolean active() {
        return DEPTH.get()[0] > 0;
    }

    /** Leaves every enclosing scope for a moment; returns what {@link #resume} restores. */
    static int suspend() {
        int[] d = DEPTH.get();
        int depth = d[0];
        d[0] = 0;
        return depth;
    }

    static void resume(int depth) {
        DEPTH.get()[0] = depth;
    }

    @Override
    public void close() {
        DEPTH.get()[0]--;
    }
}
