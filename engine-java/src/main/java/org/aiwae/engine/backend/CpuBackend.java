package org.aiwae.engine.backend;

import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;

/**
 * The plain-Java backend: Vector API loops, rows split over {@link Parallel#threads()} threads.
 * No native code; this is the reference the device backends are tested against. It computes on host
 * memory, so its placement methods are the host's ({@link Placement.Host}).
 */
public final class CpuBackend implements Backend, Placement.Host {
    public static final CpuBackend INSTANCE = new CpuBackend();
    /** Elementwise work below this many elements runs on the calling thread. */
    private static final int PARALLEL_GRAIN = 1 << 15;
    /** One count per primitive call ({@link #calls()}). */
    private final LongAdder calls = new LongAdder();

    private CpuBackend() {}

    /**
     * How many primitives this backend has run so far: one per elementwise map, reduction, sum to a shape,
     * masked select, matrix product and fused decoder evaluation, whatever their size (a counter bumped once
     * per call, never per element). Every autodiff op is made of these, so work meant for a device backend
     * leaves it unchanged; the benchmarks check that it does ({@code org.aiwae.kernels.WorkAudit}).
     */
    public long calls() {
        return calls.sum();
    }

    @Override
    public Tensor full(float value, int... shape) {
        return Tensor.full(value, shape);
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, float c) {
        return binary(op, a, Tensor.scalar(c));
    }

    @Override
    public String toString() {
        return "cpu";
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor a) {
        calls.increment();
        Tensor out = Tensor.zeros(a.shape());
        float[] x = a.data(), y = out.data();
        int xo = a.offset();
        Parallel.forRange(a.size(), Gemm.V, PARALLEL_GRAIN,
                (from, to) -> VectorMath.map(op, x, xo + from, y, from, to - from));
        return out;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        calls.increment();
        int[] shape = Shapes.broadcast(op.label(), a.shape(), b.shape());
        Tensor out = Tensor.zeros(shape);
        float[] y = out.data();
        if (a.sameShape(b)) {
            Parallel.forRange(out.size(), Gemm.V, PARALLEL_GRAIN, (from, to) ->
                    VectorMath.zip(op, a.data(), a.offset() + from, b.data(), b.offset() + from, y, from, to - from));
            return out;
        }
        // loop over the merged form: rows of the last merged dimension, in which each operand either
        // steps (stride 1) or repeats one value (stride 0: the same float operations with a constant)
        Shapes.Merged m = Shapes.merge(shape, Shapes.broadcastStrides(a.shape(), shape), Shapes.broadcastStrides(b.shape(), shape));
        int r = m.rank();
        int inner = r == 0 ? 1 : m.dims()[r - 1];
        int rows = inner == 0 ? 0 : out.size() / inner;
        int ia = r == 0 ? 0 : m.a()[r - 1], ib = r == 0 ? 0 : m.b()[r - 1];
        int[] lead = r == 0 ? new int[0] : Arrays.copyOf(m.dims(), r - 1);
        int[] offA = rowOffsets(lead, m.a(), rows), offB = rowOffsets(lead, m.b(), rows);
        float[] xa = a.data(), xb = b.data();
        int ao = a.offset(), bo = b.offset();
        Parallel.forRange(rows, 1, Math.max(1, PARALLEL_GRAIN / Math.max(inner, 1)), (from, to) -> {
            for (int row = from; row < to; row++) {
                int pa = ao + offA[row], pb = bo + offB[row], py = row * inner;
                if (ia == 1 && ib == 1) {
                    VectorMath.zip(op, xa, pa, xb, pb, y, py, inner);
                } else if (ia == 1) {
                    VectorMath.zipConstant(op, xa, pa, xb[pb], false, y, py, inner);
                } else if (ib == 1) {
                    VectorMath.zipConstant(op, xb, pb, xa[pa], true, y, py, inner);
                } else {
                    Arrays.fill(y, py, py + inner, VectorMath.apply(op, xa[pa], xb[pb]));
                }
            }
        });
        return out;
    }

    /** Offsets (in an operand with the given strides, one per dimension of {@code lead} and more) of each row, {@code lead} row-major. */
    private static int[] rowOffsets(int[] lead, int[] strides, int rows) {
        int[] off = new int[rows];
        int[] idx = new int[lead.length];
        for (int row = 0, o = 0; row < rows; row++) {
            off[row] = o;
            for (int d = lead.length - 1; d >= 0; d--) {
                idx[d]++;
                o += strides[d];
                if (idx[d] < lead[d]) {
                    break;
                }
                o -= strides[d] * idx[d];
                idx[d] = 0;
            }
        }
        return off;
    }

    @Override
    public Tensor where(Tensor mask, Tensor a, Tensor b) {
        calls.increment();
        int inner = whereInner(mask, a, b);
        Tensor out = Tensor.zeros(a.shape());
        float[] m = mask.data(), x = a.data(), z = b.data(), y = out.data();
        int mo = mask.offset(), ao = a.offset(), bo = b.offset();
        for (int r = 0, rows = mask.size(); r < rows; r++) {
            float[] src = m[mo + r] != 0 ? x : z;
            System.arraycopy(src, (src == x ? ao : bo) + r * inner, y, r * inner, inner);
        }
        return out;
    }

    /** Checks {@link Backend#where}'s shapes; returns the elements per mask value. */
    public static int whereInner(Tensor mask, Tensor a, Tensor b) {
        int[] ms = mask.shape(), as = a.shape();
        boolean prefix = ms.length <= as.length && Arrays.equals(ms, Arrays.copyOf(as, ms.length));
        if (!a.sameShape(b) || !prefix) {
            throw new IllegalArgumentException("where: mask " + Shapes.str(ms) + " with " + Shapes.str(as) + " and "
                    + Shapes.str(b.shape()) + " (the mask's shape must lead the operands', which must agree)");
        }
        return mask.size() == 0 ? 0 : a.size() / mask.size();
    }

    @Override
    public Tensor reduce(ReduceOp op, Tensor a, int axis) {
        calls.increment();
        int[] shape = a.shape();
        Shapes.Block k = Shapes.reduction(op.label(), shape, axis);
        int outer = k.outer(), n = k.n(), in = k.inner();
        Tensor out = Tensor.zeros(Shapes.drop(shape, k.axis()));
        float[] x = a.data(), y = out.data();
        int xo = a.offset();
        Parallel.forRange(outer, 1, Math.max(1, PARALLEL_GRAIN / Math.max(n * in, 1)), (from, to) -> {
            double[] acc = new double[in];
            for (int o = from; o < to; o++) {
                int base = xo + o * n * in;
                if (op == ReduceOp.SUM) {
                    if (in == 1) {
                        y[o] = (float) VectorMath.sum(x, base, n);
                        continue;
                    }
                    Arrays.fill(acc, 0);
                    for (int i = 0; i < n; i++) {
                        for (int j = 0, p = base + i * in; j < in; j++) {
                            acc[j] += x[p + j];
                        }
                    }
                } else {
                    Arrays.fill(acc, Double.NEGATIVE_INFINITY);
                    for (int i = 0; i < n; i++) {
                        for (int j = 0, p = base + i * in; j < in; j++) {
                            acc[j] = Math.max(acc[j], x[p + j]);
                        }
                    }
                }
                for (int j = 0; j < in; j++) {
                    y[o * in + j] = (float) acc[j];
                }
            }
        });
        return out;
    }

    @Override
    public Tensor sumTo(Tensor a, int[] shape) {
        calls.increment();
        int[] full = a.shape();
        if (!Arrays.equals(Shapes.broadcast("sumTo", shape, full), full)) {
            throw new IllegalArgumentException("sumTo: shape " + Shapes.str(shape) + " does not broadcast to " + Shapes.str(full));
        }
        if (Arrays.equals(shape, full)) {
            return a.copy();
        }
        Tensor out = Tensor.zeros(shape);
        float[] y = out.data(), x = a.data();
        int xo = a.offset();
        int m = out.size();
        if (m > 0 && Shapes.isSuffix(stripLeadingOnes(shape), full)) {
            // gradient of a leading-dimension broadcast: fold blocks of m
            int blocks = a.size() / m;
            for (int b = 0; b < blocks; b++) {
                VectorMath.zip(BinaryOp.ADD, y, 0, x, xo + b * m, y, 0, m);
            }
            return out;
        }
        int[] st = Shapes.broadcastStrides(shape, full);
        int inner = full.length == 0 ? 1 : full[full.length - 1];
        int rows = inner == 0 ? 0 : a.size() / inner;
        int[] off = rowOffsets(full.length == 0 ? full : Arrays.copyOf(full, full.length - 1), st, rows);
        int is = st.length == 0 ? 0 : st[st.length - 1];
        for (int r = 0; r < rows; r++) {
            int src = xo + r * inner;
            for (int j = 0; j < inner; j++) {
                y[off[r] + j * is] += x[src + j];
            }
        }
        return out;
    }

    private static int[] stripLeadingOnes(int[] shape) {
        int i = 0;
        while (i < shape.length && shape[i] == 1) {
            i++;
        }
        return Arrays.copyOfRange(shape, i, shape.length);
    }

    @Override
    public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, boolean accumulate) {
        calls.increment();
        MatmulShape s = MatmulShape.of(a, transA, b, transB, out);
        Gemm.Packed packed = Gemm.Packed.of(b.data(), b.offset(), s.k(), s.n(), transB);
        int ars = transA ? 1 : s.k();
        int acs = transA ? s.m() : 1;
        long flops = (long) s.m() * s.n() * s.k();
        int minRows = (int) Math.max(Gemm.MR, Math.min(s.m(), 200_000L * s.m() / Math.max(flops, 1)));
        Parallel.forRange(s.m(), Gemm.MR, minRows, (from, to) ->
                Gemm.multiply(a.data(), a.offset() + from * ars, ars, acs, packed,
                        out.data(), out.offset() + from * s.n(), s.n(), to - from, accumulate, new Gemm.Scratch(to - from, s.k())));
    }

    @Override
    public DecoderKernel decoder(TanhMlpDecoder decoder, int maxRows) {
        return new CpuDecoderKernel(decoder, maxRows, calls);
    }
}
