package org.aiwae.kernels;

import java.util.Optional;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.CpuBackend;
import org.aiwae.engine.backend.MatmulShape;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.backend.UnaryOp;
import org.aiwae.engine.fused.AnnealingKernel;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;

/**
 * A backend whose tensors live in a {@link Device}'s memory. Its primitives take and return
 * device tensors (a host operand is an error naming both placements: {@link Tensor#to} moves it);
 * their buffers come from a per-backend {@link BufferPool}. Matrix products run as the device's
 * tiled sgemm on the operands' buffers; the fused decoder and the AIS kernel keep their state on
 * the device. Every host/device copy goes through a counter ({@link #transfers()}).
 */
public final class DeviceBackend implements Backend {
    /** Pool budget before unreachable tensors are collected: {@code AIWAE_DEVICE_POOL_MB}, default 1024 MB. */
    private static final long POOL_BUDGET_FLOATS = budget();

    private final CountingDevice device;
    private final BufferPool pool;
    private final Kernels kernels;
    private final Backend host = CpuBackend.INSTANCE;

    public DeviceBackend(Device device) {
        this.device = new CountingDevice(device);
        this.pool = new BufferPool(this.device, POOL_BUDGET_FLOATS);
        this.kernels = new Kernels(this.device);
    }

    private static long budget() {
        String mb = System.getenv("AIWAE_DEVICE_POOL_MB");
        long m = 1024;
        if (mb != null) {
            try {
                m = Math.max(16, Long.parseLong(mb.strip()));
            } catch (NumberFormatException ignored) {
                // the default
            }
        }
        return m * (1L << 20) / 4;
    }

    public Device device() {
        return device;
    }

    /** The launches of the device's kernels. */
    public Kernels kernels() {
        return kernels;
    }

    @Override
    public String name() {
        return device.api();
    }

    @Override
    public String toString() {
        return device.api() + " (" + device.name() + ")";
    }

    /** Host/device copies made so far on this backend (tensors, fused kernels, everything). */
    public Transfers transfers() {
        return device.transfers();
    }

    /** Device allocations and pool reuses so far. */
    public BufferPool.Stats pool() {
        return pool.stats();
    }

    // ---------------------------------------------------------------- memory

    /** A tensor of the given shape on this device, its contents undefined. */
    Tensor empty(int... shape) {
        long n = Math.max(1, Shapes.size(shape));
        Device.Buffer b = pool.take(n);
        return Tensor.on(new DeviceBuffer(this, b, n, pool), shape);
    }

    @Override
    public Tensor zeros(int... shape) {
        return empty(shape).fill(0f);
    }

    @Override
    public Tensor upload(Tensor hostTensor) {
        if (!hostTensor.onHost()) {
            return hostTensor.to(Placement.HOST).to(this);
        }
        Tensor t = empty(hostTensor.shape());
        device.write(buffer(t), t.offset(), hostTensor.data(), hostTensor.offset(), hostTensor.size());
        return t;
    }

    /** The device buffer of a tensor on this backend. */
    Device.Buffer buffer(Tensor t) {
        Backends.require("device", this, t);
        return ((DeviceBuffer) t.deviceStorage()).buffer();
    }

    // ---------------------------------------------------------------- primitives

    @Override
    public Tensor unary(UnaryOp op, Tensor a) {
        Backends.require(op.name().toLowerCase(), this, a);
        return upload(host.unary(op, a.to(Placement.HOST)));
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Backends.require(op.name().toLowerCase(), this, a, b);
        return upload(host.binary(op, a.to(Placement.HOST), b.to(Placement.HOST)));
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, float c) {
        Backends.require(op.name().toLowerCase(), this, a);
        return upload(host.binary(op, a.to(Placement.HOST), c));
    }

    @Override
    public Tensor reduce(ReduceOp op, Tensor a, int axis) {
        Backends.require(op.name().toLowerCase(), this, a);
        return upload(host.reduce(op, a.to(Placement.HOST), axis));
    }

    @Override
    public Tensor sumTo(Tensor a, int[] shape) {
        Backends.require("sumTo", this, a);
        return upload(host.sumTo(a.to(Placement.HOST), shape));
    }

    @Override
    public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, boolean accumulate) {
        MatmulShape s = MatmulShape.of(a, transA, b, transB, out);
        Backends.require("matmul", this, a, b, out);
        kernels.sgemm(s.m(), s.n(), s.k(), new Kernels.Matrix(buffer(a), a.offset(), transA ? s.m() : s.k(), transA),
                new Kernels.Matrix(buffer(b), b.offset(), transB ? s.k() : s.n(), transB),
                new Kernels.Matrix(buffer(out), out.offset(), s.n(), false), accumulate, Kernels.Epilogue.NONE, null, null);
    }

    // ---------------------------------------------------------------- fused kernels

    @Override
    public DecoderKernel decoder(TanhMlpDecoder decoder, int maxRows) {
        return new DeviceDecoderKernel(kernels, decoder, maxRows);
    }

    @Override
    public Optional<AnnealingKernel> annealing(TanhMlpDecoder decoder, int maxChains) {
        return Optional.of(new DeviceAnnealingKernel(kernels, decoder, maxChains));
    }

    /** Frees the pooled buffers and the device context; tensors on this backend are unusable afterwards. */
    @Override
    public synchronized void close() {
        pool.close();
        device.close();
    }
}
