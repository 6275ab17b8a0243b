package org.aiwae.engine.backend;

import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;

/**
 * What a compute backend provides: a handful of primitives that every autodiff op is built from,
 * plus a fused form of the operation that dominates HMC and AIS (the decoder's log-density and its gradient).
 *
 * <p>The primitives follow tinygrad's idea of a small op set: elementwise maps of one or two
 * (broadcast) tensors, reductions along an axis, and matrix products. A backend is also a
 * {@link Placement}: its primitives take and return tensors in its own memory (the CPU backend:
 * host arrays; a device backend: device buffers), and {@link Backends#of} picks the backend from
 * the operands, so a tensor never crosses to another memory unless {@link Tensor#to} says so.
 * A backend that holds device memory releases it in {@link #close()}.
 */
public interface Backend extends Placement, AutoCloseable {

    /** {@code op(a)} elementwise into a new tensor. */
    Tensor unary(UnaryOp op, Tensor a);

    /** {@code op(a, b)} elementwise with NumPy broadcasting into a new tensor. */
    Tensor binary(BinaryOp op, Tensor a, Tensor b);

    /** {@code op(a, c)} elementwise with a constant. */
    Tensor binary(BinaryOp op, Tensor a, float c);

    /** Reduces {@code axis} away. */
    Tensor reduce(ReduceOp op, Tensor a, int axis);

    /**
     * Sums {@code a} down to {@code shape}, the reverse of broadcasting {@code shape} up to
     * {@code a.shape()}: the gradient of a broadcast operand.
     */
    Tensor sumTo(Tensor a, int[] shape);

    /**
     * {@code out = op(a) @ op(b)} (or {@code +=} when {@code accumulate}) for 2-d operands, where
     * {@code op} transposes when the flag is set.
     */
    void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, boolean accumulate);

    /**
     * The masked select: {@code mask ? a : b} elementwise, where {@code a} and {@code b} have one shape
     * and {@code mask} holds one value per leading index ({@code [N]} against {@code [N, D]}, or the
     * same shape), nonzero meaning {@code a}: the accept/reject of a Metropolis test per chain.
     */
    Tensor where(Tensor mask, Tensor a, Tensor b);

    /**
     * {@code shape}'s worth of Philox4x32-10 uniforms or normals of stream {@code (seed, id)} from block
     * {@code position}, in this backend's memory, exactly as {@code RandomStream} lays them out (block i
     * gives values 4i..4i+3). The host draws through {@code RandomStream} itself, which calls this only
     * for a device backend; the CPU backend does not implement it.
     */
    default Tensor philox(long seed, long id, long position, boolean normal, int... shape) {
        throw new UnsupportedOperationException(name() + ": host random numbers come from RandomStream");
    }

    /**
     * Philox draws of one stream per group, all from block {@code position}: a {@code [per, groups, dim]}
     * tensor whose group g holds {@code per * dim} values of stream {@code (seed, ids[g])} in row-major
     * {@code [per, dim]} order, exactly as {@code ChainNoise.PerGroup} lays them out on the host (which
     * calls this only for a device backend).
     */
    default Tensor philox(long seed, long[] ids, long position, boolean normal, int per, int dim) {
        throw new UnsupportedOperationException(name() + ": host random numbers come from ChainNoise");
    }

    /** A new tensor filled with {@code value} in this backend's memory. */
    default Tensor full(float value, int... shape) {
        return zeros(shape).fill(value);
    }

    /**
     * The fused decoder log-density: a prepared kernel that evaluates log p(x, z) and its gradient
     * in z for the tanh-MLP Bernoulli decoder with buffers sized for up to {@code maxRows} rows.
     */
    DecoderKernel decoder(TanhMlpDecoder decoder, int maxRows);

    /**
     * Opens a scope in which the tensors this thread creates on this backend are temporaries: when
     * the scope closes their memory goes back to the backend's pool, so the next scope (the next
     * training step, with the same shapes) reuses it instead of allocating, and using such a tensor
     * afterwards is an error. Tensors created before the scope (parameters, optimiser moments) are
     * untouched; results must be read or copied into them before it closes. The CPU backend leaves
     * host arrays to the garbage collector.
     */
    default Reclaim reclaim() {
        return () -> {};
    }

    /** A {@link #reclaim} scope. */
    interface Reclaim extends AutoCloseable {
        @Override
        void close();
    }

    /** Releases what the backend holds on its device; the CPU backend holds nothing. */
    @Override
    default void close() {}
}
