package org.aiwae.kernels;

/**
 * What an accelerator offers the shared launch sequences of {@link DeviceBackend}: float buffers,
 * copies, and the two kernels of {@code aiwae.cl} / {@code aiwae.cu}. OpenCL and CUDA implement it;
 * everything above it (which kernel runs when, with which buffers) is written once.
 */
public interface Device extends AutoCloseable {

    /** A device allocation of {@code floats()} float32 values. */
    interface Buffer {
        long floats();
    }

    /** Epilogues of {@link #sgemm}, as in the kernel sources. */
    int EPI_NONE = 0, EPI_BIAS_TANH = 1, EPI_BIAS = 2, EPI_TANH_GRAD = 3, EPI_SUB_AUX = 4;

    /** {@code opencl} or {@code cuda}. */
    String api();

    /** The device's own name, e.g. the GPU model or PoCL's CPU device. */
    String name();

    Buffer alloc(long floats);

    void free(Buffer b);

    /** Copies {@code n} floats from {@code src[off..]} to the start of {@code dst}. */
    void write(Buffer dst, float[] src, int off, int n);

    /** Copies {@code n} floats from the start of {@code src} to {@code dst[off..]} (waits for the queue). */
    void read(Buffer src, float[] dst, int off, int n);

    /**
     * {@code C = op(A) op(B)} (+ C when accumulate) then the epilogue, with leading dimensions and
     * element offsets as in BLAS; {@code bias} and {@code aux} may be null when the epilogue does not read them.
     */
    void sgemm(int m, int n, int k, Buffer a, int aoff, int lda, boolean ta, Buffer b, int boff, int ldb, boolean tb,
               Buffer c, int coff, int ldc, boolean accumulate, Buffer bias, Buffer aux, int epilogue);

    /** The Bernoulli log-likelihood rows plus the standard normal prior; {@code g} may be null without gradients. */
    void bernoulliRows(int rows, int data, int batch, int latent, Buffer logits, Buffer x, Buffer z, Buffer g, Buffer logp,
                       boolean wantGrad);

    /** Copies {@code floats} values from the start of {@code src} to the start of {@code dst}, on the device. */
    void copy(Buffer src, Buffer dst, long floats);

    /** Copies {@code n} doubles (a buffer of 2n floats written by a kernel as doubles) to {@code dst}. */
    void readDoubles(Buffer src, double[] dst, int n);

    /**
     * Launches the one-dimensional kernel {@code name} over {@code items} work-items with {@code args}
     * (Buffer, Integer, Long, Float or Double, in the kernel's order; null for an unused buffer).
     */
    void run(String name, int items, Object... args);

    @Override
    void close();
}
