package org.aiwae.kernels;

/**
 * Tensor code recorded once on a {@link DeviceBackend} ({@link DeviceBackend#record}, where the rules are) and
 * replayed: on CUDA one {@code cuGraphLaunch} per replay, on OpenCL the recorded command list, each launch
 * with its kernel object and arguments set at record time. {@link #result()} is what the recorded code
 * returned (its output tensors, which hold the last replay's values). Closing the graph frees the recording
 * and lets the pool have the buffers back.
 *
 * <pre>{@code
 * Tensor x = backend.zeros(rows, cols);                 // an input the caller updates between replays
 * try (DeviceGraph<Tensor> g = backend.record(() -> f(x))) {
 *     for (float[] batch : batches) {
 *         x.copyFrom(batch);                             // outside the recording: a host write
 *         g.replay();
 *         use(g.result().toArray());                     // the replay's output (a host read waits for it)
 *     }
 * }
 * }</pre>
 */
public final class DeviceGraph<T> implements AutoCloseable {
    private final Device.Recording recording;
    private final T result;
    private final DeviceWork perReplay;
    private final Runnable release;
    private boolean closed;

    DeviceGraph(Device.Recording recording, T result, DeviceWork perReplay, Runnable release) {
        this.recording = recording;
        this.result = result;
        this.perReplay = perReplay;
        this.release = release;
    }

    /** What the recorded code returned. */
    public T result() {
        return result;
    }

    /** The device work of one replay: the recorded launches, copies and fills, and one replay. */
    public DeviceWork perReplay() {
        return perReplay;
    }

    /** Enqueues the recorded work once more, in order with everything else on the device; nothing waits for it. */
    public synchronized void replay() {
        if (closed) {
            throw new IllegalStateException("replay of a closed device graph");
        }
        recording.replay();
    }

    /** Frees the recording and releases its buffers (work already enqueued runs first: the device runs in order). */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            try {
                recording.close();
            } finally {
                release.run();
            }
        }
    }
}
