package org.aiwae.kernels;

import java.util.Arrays;
import java.util.function.Supplier;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.CpuBackend;
import org.aiwae.engine.backend.MatmulShape;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.backend.UnaryOp;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;

/**
 * A backend whose tensors live in a {@link Device}'s memory. Every primitive runs as a kernel of
 * {@code aiwae_body.h} on device tensors and returns a device tensor (a host operand is an error
 * naming both placements: {@link Tensor#to} moves it): elementwise maps with broadcasting,
 * reductions, the masked select, Philox fills, and matrix products as the tiled sgemm on the
 * operands' buffers. Buffers come from a per-backend pool ({@link #pool()}). The fused decoder keeps
 * its intermediates on the device; HMC and AIS are composed from the primitives ({@code org.aiwae.sampler}). Every launch, copy, fill and host/device copy goes through a counter
 * ({@link #work()}), so a test can check that nothing falls back to the host. The fused forms of fixed patterns,
 * one launch each, are the models' and objectives' ({@code FusedModelForms}) and the sampler's and optimizer's steps
 * ({@code FusedStepForms}); the calling thread's recording, temperature clock binding and reclaim scopes are a
 * {@code ThreadScopes}.
 */
public final class DeviceBackend extends FusedStepForms {
    /** Pool budget before unreachable tensors are collected: {@code AIWAE_DEVICE_POOL_MB}, default 1024 MB. */
    private static final long POOL_BUDGET_FLOATS = budget();

    private final CountingDevice device;
    private final BufferPool pool;
    private final Kernels kernels;
    private final ThreadScopes scopes;

    public DeviceBackend(Device device) {
        this.device = new CountingDevice(device);
        this.pool = new BufferPool(this.device, POOL_BUDGET_FLOATS);
        this.kernels = new Kernels(this.device);
        this.scopes = new ThreadScopes(this.device.api());
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
    @Override
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

    /** The device work issued so far on this backend (tensors, fused kernels, everything): launches, copies, fills, host reads and writes. */
    public DeviceWork work() {
        return device.work();
    }

    /**
     * The device operations issued so far on this backend by kind, sorted by name: launches per kernel name
     * ({@code aiwae_body.h}'s), device copies under {@code (copy)} and fills under {@code (fill)}; the counts add up
     * to {@link #work()}'s {@link DeviceWork#ops() ops}. {@code bin/aiwae bench --work-breakdown} prints it per step.
     */
    public java.util.Map<String, Long> workByKind() {
        return device.byKind();
    }

    /** What the backend's buffer pool has done so far: device allocations, reuses, and the floats in use and cached. */
    public record PoolStats(long deviceAllocations, long reuses, long liveFloats, long cachedFloats) {}

    /** Device allocations and pool reuses so far. */
    public PoolStats pool() {
        return pool.stats();
    }

    // ---------------------------------------------------------------- memory

    /** A tensor of the given shape on this device, its contents undefined (no fill). */
    @Override
    public Tensor empty(int... shape) {
        long n = Math.max(1, Shapes.size(shape));
        PooledStorage storage = new PooledStorage(this, pool.take(n), n);
        scopes.made(storage.lease());
        use(storage.lease());
        return Tensor.on(storage, shape);
    }

    // ---------------------------------------------------------------- recording

    /** The buffer of {@code lease}, held by the calling thread's recording if it records. */
    Device.Buffer use(BufferPool.Lease lease) {
        return scopes.use(lease);
    }

    /**
     * Runs {@code code} (tensor operations on this backend) once while recording its device work, and returns
     * it as a {@link DeviceGraph} whose {@link DeviceGraph#replay() replay} runs that work again: on CUDA one
     * graph launch, on OpenCL the recorded command list, with no autodiff graph, no pool traffic and no
     * argument marshalling. Nothing runs while recording, so the tensors {@code code} returns hold their values
     * only after a replay (the last replay's values). The rules:
     * <ul>
     * <li>Shapes are fixed, and so is every value passed to a kernel as a scalar (sizes, offsets, constants,
     * Philox seeds and positions): a replay repeats them. Values that change from replay to replay must come
     * from device memory that the caller updates between replays (e.g. {@code copyFrom} into an input tensor
     * made before recording).</li>
     * <li>No host reads or writes inside: they are an {@link IllegalStateException} naming the rule (which makes
     * {@code item()}, {@code toArray()} and uploads errors there too). Recordings do not nest.</li>
     * <li>Every pooled buffer the code makes or uses belongs to the graph until it closes: a reclaim scope that
     * closes, or a tensor that becomes unreachable, does not return it to the pool before then, so a replay never
     * writes memory the pool handed to someone else. Tensors the code makes stay valid until the graph closes
     * (and until their own scope closes or they become unreachable, whichever is later).</li>
     * <li>Memory the backend does not pool (a fused decoder kernel's buffers) must outlive the graph.</li>
     * </ul>
     */
    public <T> DeviceGraph<T> record(Supplier<T> code) {
        return scopes.record(device, code);
    }

    /** A {@link #clocked} binding; closing it ends the binding. */
    public interface ClockBinding extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Until the returned binding closes, this thread's launches take what changes from one AIS temperature to the next
     * from {@code clock} (on the device) instead of from their arguments, so that the work of one temperature, recorded,
     * replays at every temperature while {@link TemperatureClock#tick} advances the clock: the tempered kicks' and
     * Metropolis tests' {@code b0, b1} and the reweighting's {@code dbeta} of the clock's step; the step-size adaptation's
     * count at {@code offset - step + i} and the Philox draws of stream groups ({@code ChainNoise.PerGroup}) from block
     * {@code position + (i - step) blocksPerStep}, where the clock is at step i and the host issues step {@code step}. Each
     * scalar passed must be the clock's value at {@code step} (an {@link IllegalStateException} otherwise), so the launches
     * compute at step {@code step} what they would compute directly; a Philox draw of another kind is an error, as its
     * position would not advance.
     */
    public ClockBinding clocked(TemperatureClock clock, int step, long blocksPerStep) {
        return scopes.bind(this, clock, step, blocksPerStep);
    }

    @Override
    ThreadScopes scopes() {
        return scopes;
    }

    @Override
    public Reclaim reclaim() {
        return scopes.reclaim();
    }

    @Override
    public Tensor zeros(int... shape) {
        return empty(shape).fill(0f);
    }

    /** One fill. */
    @Override
    public Tensor full(float value, int... shape) {
        return empty(shape).fill(value);
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
    @Override
    Device.Buffer buffer(Tensor t) {
        Backends.require("device", this, t);
        return ((PooledStorage) t.deviceStorage()).buffer();
    }

    // ---------------------------------------------------------------- primitives

    @Override
    public Tensor unary(UnaryOp op, Tensor a) {
        Tensor y = empty(a.shape());
        kernels.unaryOp(a.size(), op.ordinal(), buffer(a), a.offset(), buffer(y));
        return y;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, float c) {
        Tensor y = empty(a.shape());
        kernels.binaryScalar(a.size(), op.ordinal(), buffer(a), a.offset(), c, buffer(y));
        return y;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        int[] shape = Shapes.broadcast(op.label(), a.shape(), b.shape());
        Tensor y = empty(shape);
        Broadcast g = Broadcast.of(shape, Shapes.broadcastStrides(a.shape(), shape), Shapes.broadcastStrides(b.shape(), shape));
        kernels.binaryOp(y.size(), op.ordinal(), g.dims(), buffer(a), a.offset(), g.a(), buffer(b), b.offset(), g.b(), buffer(y));
        return y;
    }


    @Override
    public Tensor reduce(ReduceOp op, Tensor a, int axis) {
        int[] shape = a.shape();
        Shapes.Block k = Shapes.reduction(op.label(), shape, axis);
        Tensor y = empty(Shapes.drop(shape, k.axis()));
        if (k.inner() == 1) {
            kernels.reduceRows(k.outer(), k.n(), op.ordinal(), buffer(a), a.offset(), buffer(y));
        } else {
            kernels.reduceAxis(k.outer(), k.n(), k.inner(), op.ordinal(), buffer(a), a.offset(), buffer(y));
        }
        return y;
    }

    /** Composed from {@link #reduce}: a sum over each broadcast dimension, from the last. */
    @Override
    public Tensor sumTo(Tensor a, int[] shape) {
        int[] full = a.shape();
        if (!Arrays.equals(Shapes.broadcast("sumTo", shape, full), full)) {
            throw new IllegalArgumentException("sumTo: shape " + Shapes.str(shape) + " does not broadcast to " + Shapes.str(full));
        }
        if (Arrays.equals(shape, full)) {
            return a.copy();
        }
        int lead = full.length - shape.length;
        Tensor t = a;
        for (int i = full.length - 1; i >= 0; i--) {
            int target = i < lead ? 1 : shape[i - lead];
            if (target == 1 && full[i] != 1) {
                int[] kept = t.shape();
                kept[i] = 1;
                t = reduce(ReduceOp.SUM, t, i).reshape(kept);
            }
        }
        return t.reshape(shape);
    }

    @Override
    public Tensor where(Tensor mask, Tensor a, Tensor b) {
        int inner = CpuBackend.whereInner(mask, a, b);
        Tensor y = empty(a.shape());
        kernels.whereRows(a.size(), Math.max(inner, 1), buffer(mask), mask.offset(), buffer(a), a.offset(), buffer(b), b.offset(),
                buffer(y));
        return y;
    }

    @Override
    public Tensor philox(long seed, long id, long position, boolean normal, int... shape) {
        scopes.requireUnclocked("a single stream's Philox draw");
        Tensor y = empty(shape);
        kernels.philoxFill(y.size(), seed, id, position, normal, buffer(y));
        return y;
    }

    @Override
    public Tensor philox(Tensor key, long position, boolean normal, int... shape) {
        if (key.size() != 4) {
            throw new IllegalArgumentException("philox: a stream key is 4 words, got shape " + Shapes.str(key.shape()));
        }
        Tensor y = empty(shape);
        kernels.philoxFillKeyed(y.size(), buffer(key), key.offset(), position, normal, buffer(y));
        return y;
    }

    /** One launch. */
    @Override
    public Draws philoxNormalsThenUniforms(Tensor key, long position, int[] normalShape, int[] uniformShape) {
        scopes.requireUnclocked("a keyed stream's Philox draw");
        if (key.size() != 4) {
            throw new IllegalArgumentException("philox: a stream key is 4 words, got shape " + Shapes.str(key.shape()));
        }
        Tensor normals = empty(normalShape), uniforms = empty(uniformShape);
        kernels.philoxFillKeyed(normals.size(), buffer(key), key.offset(), position, true, buffer(normals), uniforms.size(), buffer(uniforms));
        return new Draws(normals, uniforms);
    }

    /** The stream ids last uploaded for {@link #philox(long, long[], long, boolean, int, int)}, per thread. */
    private final ThreadLocal<Ids> groupIds = new ThreadLocal<>();

    /** Stream ids on the device: a pooled buffer, held like a tensor's by the recordings that use it. */
    private record Ids(long[] ids, BufferPool.Lease lease) {}

    @Override
    public Tensor philox(long seed, long[] ids, long position, boolean normal, int per, int dim) {
        Ids held = groupIds.get();
        if (held == null || !Arrays.equals(held.ids(), ids)) {
            float[] words = new float[2 * ids.length];
            for (int g = 0; g < ids.length; g++) {
                words[2 * g] = Float.intBitsToFloat((int) ids[g]);
                words[2 * g + 1] = Float.intBitsToFloat((int) (ids[g] >>> 32));
            }
            BufferPool.Lease lease = pool.take(words.length);
            try {
                device.write(lease.buffer(), words, 0, words.length);
            } catch (RuntimeException e) {
                lease.release();
                throw e;
            }
            if (held != null) {
                held.lease().release();
            }
            held = new Ids(ids.clone(), lease);
            groupIds.set(held);
        }
        Tensor y = empty(per, ids.length, dim);
        int blocks = (per * dim + 3) / 4;
        ThreadScopes.Clocked c = scopes.clocked();
        if (c == null) {
            kernels.philoxFillGroups(ids.length, blocks, per, dim, seed, use(held.lease()), position, normal, buffer(y));
        } else {
            kernels.philoxFillGroups(ids.length, blocks, per, dim, seed, use(held.lease()), position - c.step() * c.blocksPerStep(), normal,
                    buffer(y), c.clock().buffer(), c.blocksPerStep());
        }
        return y;
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

    /** Frees the pooled buffers and the device context; tensors on this backend are unusable afterwards. */
    @Override
    public synchronized void close() {
        pool.close();
        device.close();
    }
}
