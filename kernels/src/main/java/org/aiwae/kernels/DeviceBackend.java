package org.aiwae.kernels;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.CpuBackend;
import org.aiwae.engine.backend.MatmulShape;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.backend.UnaryOp;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;

/**
 * A backend that runs the matrix products and the fused decoder (the hot loop of HMC and AIS) on
 * a {@link Device}; the elementwise primitives and reductions, which move little work, stay on
 * the CPU backend. The matmul scratch buffers grow to the largest shape seen and are reused.
 */
public final class DeviceBackend implements Backend, AutoCloseable {
    private final Device device;
    private final Kernels kernels;
    private final Backend host = CpuBackend.INSTANCE;
    private final Device.Buffer[] scratch = new Device.Buffer[3];

    public DeviceBackend(Device device) {
        this.device = device;
        this.kernels = new Kernels(device);
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
    public Tensor unary(UnaryOp op, Tensor a) {
        return host.unary(op, a);
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        return host.binary(op, a, b);
    }

    @Override
    public Tensor reduce(ReduceOp op, Tensor a, int axis) {
        return host.reduce(op, a, axis);
    }

    @Override
    public Tensor sumTo(Tensor a, int[] shape) {
        return host.sumTo(a, shape);
    }

    @Override
    public synchronized void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, boolean accumulate) {
        MatmulShape s = MatmulShape.of(a, transA, b, transB, out);
        Device.Buffer da = buffer(0, a.size()), db = buffer(1, b.size()), dc = buffer(2, out.size());
        device.write(da, a.data(), a.offset(), a.size());
        device.write(db, b.data(), b.offset(), b.size());
        if (accumulate) {
            device.write(dc, out.data(), out.offset(), out.size());
        }
        kernels.sgemm(s.m(), s.n(), s.k(), new Kernels.Matrix(da, 0, transA ? s.m() : s.k(), transA),
                new Kernels.Matrix(db, 0, transB ? s.k() : s.n(), transB), Kernels.Matrix.of(dc, s.n()), accumulate,
                Kernels.Epilogue.NONE, null, null);
        device.read(dc, out.data(), out.offset(), out.size());
    }

    private Device.Buffer buffer(int slot, long floats) {
        Device.Buffer b = scratch[slot];
        if (b == null || b.floats() < floats) {
            if (b != null) {
                device.free(b);
            }
            b = device.alloc(Math.max(floats, 1));
            scratch[slot] = b;
        }
        return b;
    }

    @Override
    public DecoderKernel decoder(TanhMlpDecoder decoder, int maxRows) {
        return new DeviceDecoderKernel(kernels, decoder, maxRows);
    }

    @Override
    public java.util.Optional<org.aiwae.engine.fused.AnnealingKernel> annealing(TanhMlpDecoder decoder, int maxChains) {
        return java.util.Optional.of(new DeviceAnnealingKernel(kernels, decoder, maxChains));
    }

    @Override
    public synchronized void close() {
        for (int i = 0; i < scratch.length; i++) {
            if (scratch[i] != null) {
                device.free(scratch[i]);
                scratch[i] = null;
            }
        }
        device.close();
    }
}
