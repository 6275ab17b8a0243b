package org.aiwae.kernels;

/**
 * What an accelerator offers the shared launch sequences ({@link Kernels}, {@link DeviceBackend}):
 * float buffers, copies, and launches of the kernels in {@code aiwae_body.h}. OpenCL and CUDA implement
 * it; everything above it (which kernel runs when, with which arguments) is written once.
 */
public interface Device extends AutoCloseable {

    /** A device allocation of {@code floats()} float32 values. */
    interface Buffer {
        long floats();
    }

    /** {@code opencl} or {@code cuda}. */
    String api();

    /** The device's own name, e.g. the GPU model or PoCL's CPU device. */
    String name();

    Buffer alloc(long floats);

    void free(Buffer b);

    /** Copies {@code n} floats from {@code src[off..]} to the start of {@code dst}. */
    default void write(Buffer dst, float[] src, int off, int n) {
        write(dst, 0, src, off, n);
    }

    /** Copies {@code n} floats from the start of {@code src} to {@code dst[off..]} (waits for the queue). */
    default void read(Buffer src, float[] dst, int off, int n) {
        read(src, 0, dst, off, n);
    }

    /** Copies {@code n} floats from {@code src[off..]} to {@code dst} from element {@code dstOff} (host to device). */
    void write(Buffer dst, long dstOff, float[] src, int off, int n);

    /** Copies {@code n} floats of {@code src} from element {@code srcOff} to {@code dst[off..]} (device to host; waits for the queue). */
    void read(Buffer src, long srcOff, float[] dst, int off, int n);

    /** Copies {@code n} floats from {@code src} at {@code srcOff} to {@code dst} at {@code dstOff}, on the device. */
    void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n);

    /** Sets {@code n} floats of {@code dst} from element {@code off} to {@code value}, on the device. */
    void fill(Buffer dst, long off, long n, float value);

    /** Copies {@code floats} values from the start of {@code src} to the start of {@code dst}, on the device. */
    default void copy(Buffer src, Buffer dst, long floats) {
        copy(src, 0, dst, 0, floats);
    }

    /**
     * Enqueues one kernel launch (in order with the copies; nothing waits for it). An empty grid launches
     * nothing; a null buffer argument is passed as a placeholder the kernel does not read.
     */
    void launch(KernelCall call);

    /**
     * Runs {@code issue} on the calling thread while recording: the launches, device copies and fills it
     * issues are recorded, not run (CUDA: stream capture into a graph; OpenCL: a list of commands, each launch
     * with its own kernel object whose arguments are set once), and the returned {@link Recording} enqueues
     * them all again on each {@link Recording#replay()}. A host read or write inside is an
     * {@link IllegalStateException} ({@link #hostTransferWhileRecording}); so is a recording inside a
     * recording. Other threads wait until the recording ends. What a replay reads and writes is fixed at
     * record time: the buffers (which must outlive the recording) and every scalar argument; values that
     * change from replay to replay must come from device memory the caller updates between replays.
     */
    Recording record(Runnable issue);

    /** Device work recorded once ({@link #record}) and replayed. */
    interface Recording extends AutoCloseable {
        /** Enqueues the recorded work once more, in order with everything else issued; nothing waits for it. */
        void replay();

        /** Frees the recording (not the buffers its work uses); a replay afterwards is an error. */
        @Override
        void close();
    }

    /** The error of a host read or write ({@code what}) while {@code device} records. */
    static IllegalStateException hostTransferWhileRecording(Device device, String what) {
        return new IllegalStateException("a host " + what + " while recording on " + device.api() + " (" + device.name()
                + "): the recorded work runs only when it is replayed, so the host cannot " + what + " between its steps;"
                + " keep host reads and writes outside the recorded code (update inputs between replays)");
    }

    @Override
    void close();
}
