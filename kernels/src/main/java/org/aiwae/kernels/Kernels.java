package org.aiwae.kernels;

import org.aiwae.kernels.Device.Buffer;
import org.aiwae.kernels.KernelCall.Grid;

/**
 * The host side of every kernel in {@code aiwae_body.h}, written once for OpenCL and CUDA: each method
 * lists its kernel's arguments in the kernel's order with the kernel's types, and its launch geometry,
 * and hands the {@link KernelCall} to the {@link Device}. {@code KernelSourceTest} checks every call
 * these methods make against the kernel signatures in the body and, where nvcc built them, in the PTX.
 */
public final class Kernels {
    /** sgemm's output block per group: {@code TILE x TILE} ({@code GEMM_TILE} in the body). */
    public static final int TILE = 64;
    /**
     * sgemm's group: {@code TILE_THREADS x TILE_THREADS} work-items ({@code GEMM_THREADS} in the body), each
     * computing {@code TILE / TILE_THREADS} squared outputs in registers.
     */
    public static final int TILE_THREADS = 16;
    /** bernoulli_rows' group size per row ({@code ROW_THREADS} in the body). */
    public static final int ROW_THREADS = 64;

    private final Device device;

    public Kernels(Device device) {
        this.device = device;
    }

    public Device device() {
        return device;
    }

    /** sgemm's epilogues, applied per output element after the product; the codes are the body's {@code EPI_*}. */
    public enum Epilogue {
        /** v */
        NONE(0),
        /** tanh(v + bias[col]): a hidden layer. */
        BIAS_TANH(1),
        /** v + bias[col]: the output layer. */
        BIAS(2),
        /** v (1 - aux[row, col]^2): backward through tanh, aux = the layer's output. */
        TANH_GRAD(3),
        /** v - aux[row, col]: the standard normal prior's gradient, aux = z. */
        SUB_AUX(4);

        final int code;

        Epilogue(int code) {
            this.code = code;
        }
    }

    /**
     * A matrix operand as BLAS takes it: {@code buffer} from element {@code offset}, leading dimension
     * {@code ld}, read transposed when {@code transposed}.
     */
    public record Matrix(Buffer buffer, int offset, int ld, boolean transposed) {
        /** Row-major from the start of {@code buffer}, not transposed. */
        public static Matrix of(Buffer buffer, int ld) {
            return new Matrix(buffer, 0, ld, false);
        }

        public Matrix transpose() {
            return new Matrix(buffer, offset, ld, !transposed);
        }
    }

    /**
     * {@code C[m, n] = op(A) op(B)} ({@code + C} when {@code accumulate}) then the epilogue; op(A) is
     * [m, k], op(B) [k, n]. Each element is one fused multiply-add chain over k in order, from 0 or from C
     * (the CPU's {@code Gemm} contract). {@code bias} and {@code aux} may be null when the epilogue does not
     * read them; {@code aux} is read with {@code c}'s leading dimension, from its element 0. One launch of
     * {@code ceil(n / TILE) x ceil(m / TILE)} groups.
     */
    public void sgemm(int m, int n, int k, Matrix a, Matrix b, Matrix c, boolean accumulate, Epilogue epilogue, Buffer bias,
                      Buffer aux) {
        device.launch(KernelCall.of("sgemm", Grid.tiles(m, n, TILE, TILE_THREADS))
                .i32(m).i32(n).i32(k)
                .buf(a.buffer()).i32(a.offset()).i32(a.ld()).flag(a.transposed())
                .buf(b.buffer()).i32(b.offset()).i32(b.ld()).flag(b.transposed())
                .buf(c.buffer()).i32(c.offset()).i32(c.ld()).flag(accumulate)
                .buf(bias).buf(aux).i32(epilogue.code)
                .build());
    }

    /**
     * log p(x | z) + log N(z; 0, I) of each of {@code rows} rows of {@code logits [rows, data]} with data
     * row {@code r mod batch} of {@code x}, into {@code logp}, and {@code g = x - sigmoid(logits)} when
     * {@code wantGrad} ({@code g} may be null otherwise).
     */
    public void bernoulliRows(int rows, int data, int batch, int latent, Buffer logits, Buffer x, Buffer z, Buffer g, Buffer logp,
                              boolean wantGrad) {
        device.launch(KernelCall.of("bernoulli_rows", Grid.groups(rows, ROW_THREADS))
                .i32(rows).i32(data).i32(batch).i32(latent)
                .buf(logits).buf(x).buf(z).buf(g).buf(logp).flag(wantGrad)
                .build());
    }

    /** {@code n} values of the Philox stream (seed, id) from block {@code position}: normals or uniforms, as RandomStream draws them. */
    public void philoxFill(int n, long seed, long id, long position, boolean normal, Buffer out) {
        device.launch(KernelCall.of("philox_fill", Grid.linear((n + 3) / 4))
                .i32(n).i32((int) seed).i32((int) (seed >>> 32)).i32((int) id).i32((int) (id >>> 32))
                .i64(position).flag(normal).buf(out)
                .build());
    }

    /**
     * ChainNoise.PerGroup's draws: {@code groups} streams (their ids as uint pairs in {@code ids}), each
     * {@code per * dim} values in {@code blocks} Philox blocks from {@code position}, into {@code out[per, groups, dim]}.
     */
    public void philoxFillGroups(int groups, int blocks, int per, int dim, long seed, Buffer ids, long position, boolean normal,
                                 Buffer out) {
        int items = groups * blocks;
        device.launch(KernelCall.of("philox_fill_groups", Grid.linear(items))
                .i32(items).i32(groups).i32(per).i32(dim).i32((int) seed).i32((int) (seed >>> 32))
                .buf(ids).i64(position).flag(normal).buf(out)
                .build());
    }

    /** {@code y[i] = op(x[xoff + i])} for {@code i < n}; {@code op} is a {@code UnaryOp} ordinal. */
    public void unaryOp(int n, int op, Buffer x, int xoff, Buffer y) {
        device.launch(KernelCall.of("unary_op", Grid.linear(n)).i32(n).i32(op).buf(x).i32(xoff).buf(y).build());
    }

    /** {@code y[i] = op(x[xoff + i], c)} for {@code i < n}; {@code op} is a {@code BinaryOp} ordinal. */
    public void binaryScalar(int n, int op, Buffer x, int xoff, float c, Buffer y) {
        device.launch(KernelCall.of("binary_scalar", Grid.linear(n)).i32(n).i32(op).buf(x).i32(xoff).f32(c).buf(y).build());
    }

    /**
     * {@code y = op(a, b)} over an output of shape {@code [n / (d[1] d[2] d[3]), d[1], d[2], d[3]]}; an
     * operand's element is at its offset plus the output index times its four strides (0 where it broadcasts).
     */
    public void binaryOp(int n, int op, int[] d, Buffer a, int aoff, int[] as, Buffer b, int boff, int[] bs, Buffer y) {
        device.launch(KernelCall.of("binary_op", Grid.linear(n)).i32(n).i32(op).i32(d[1]).i32(d[2]).i32(d[3])
                .buf(a).i32(aoff).i32(as[0]).i32(as[1]).i32(as[2]).i32(as[3])
                .buf(b).i32(boff).i32(bs[0]).i32(bs[1]).i32(bs[2]).i32(bs[3])
                .buf(y).build());
    }

    /** x viewed as {@code [outer, n, inner]}: {@code y[o, j]} = sum ({@code op} 0) or max (1) over the middle axis. */
    public void reduceAxis(int outer, int n, int inner, int op, Buffer x, int xoff, Buffer y) {
        device.launch(KernelCall.of("reduce_axis", Grid.linear(outer * inner))
                .i32(outer).i32(n).i32(inner).i32(op).buf(x).i32(xoff).buf(y).build());
    }

    /** x viewed as {@code [rows, n]}: the sum or max of each row, one group of {@link #ROW_THREADS} per row. */
    public void reduceRows(int rows, int n, int op, Buffer x, int xoff, Buffer y) {
        device.launch(KernelCall.of("reduce_rows", Grid.groups(rows, ROW_THREADS))
                .i32(rows).i32(n).i32(op).buf(x).i32(xoff).buf(y).build());
    }

    /** {@code y[i] = mask[moff + i / inner] != 0 ? a[aoff + i] : b[boff + i]} for {@code i < n}. */
    public void whereRows(int n, int inner, Buffer mask, int moff, Buffer a, int aoff, Buffer b, int boff, Buffer y) {
        device.launch(KernelCall.of("where_rows", Grid.linear(n))
                .i32(n).i32(inner).buf(mask).i32(moff).buf(a).i32(aoff).buf(b).i32(boff).buf(y).build());
    }
}
