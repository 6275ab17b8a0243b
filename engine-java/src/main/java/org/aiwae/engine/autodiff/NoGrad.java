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

    @Override
    public void close() {
        DEPTH.get()[0]--;
    }
}
