package org.aiwae.kernels;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
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
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;

/**
 * A backend whose tensors live in a {@link Device}'s memory. Every primitive runs as a kernel of
 * {@code aiwae_body.h} on device tensors and returns a device tensor (a host operand is an error
 * naming both placements: {@link Tensor#to} moves it): elementwise maps with broadcasting,
 * reductions, the masked select, Philox fills, and matrix products as the tiled sgemm on the
 * operands' buffers. Buffers come from a per-backend pool ({@link #pool()}). The fused decoder keeps
 * its intermediates on the device; HMC and AIS are composed from the primitives ({@code org.aiwae.sampler}). Every launch, copy, fill and host/device copy goes through a counter
 * ({@link #work()}), so a test can check that nothing falls back to the host.
 */
public final class DeviceBackend implements Backend {
    /** Pool budget before unreachable tensors are collected: {@code AIWAE_DEVICE_POOL_MB}, default 1024 MB. */
    private static final long POOL_BUDGET_FLOATS = budget();

    private final CountingDevice device;
    private final BufferPool pool;
    private final Kernels kernels;

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
        ArrayDeque<List<BufferPool.Lease>> open = scopes.get();
        if (!open.isEmpty()) {
            open.peek().add(storage.lease());
        }
        use(storage.lease());
        return Tensor.on(storage, shape);
    }

    // ---------------------------------------------------------------- recording

    /** The recording the calling thread runs ({@link #record}), if any. */
    private final ThreadLocal<Recorder> recorder = new ThreadLocal<>();
    /** How many threads record now: when none does, a buffer's use costs one read of this. */
    private final AtomicInteger recording = new AtomicInteger();

    /** The buffers a recording holds: every pooled buffer its code made or used. */
    private static final class Recorder {
        final Set<BufferPool.Lease> held = new HashSet<>();

        void hold(BufferPool.Lease lease) {
            if (held.add(lease)) {
                lease.hold();
            }
        }

        void release() {
            held.forEach(BufferPool.Lease::unhold);
            held.clear();
        }
    }

    /** The buffer of {@code lease}, held by the calling thread's recording if it records. */
    Device.Buffer use(BufferPool.Lease lease) {
        if (recording.get() != 0) {
            Recorder r = recorder.get();
            if (r != null) {
                r.hold(lease);
            }
        }
        return lease.buffer();
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
        if (recorder.get() != null) {
            throw new IllegalStateException("a recording inside a recording on " + name() + ": recordings do not nest");
        }
        Recorder r = new Recorder();
        var result = new Object() {
            T value;
        };
        CountingDevice.Counted recorded;
        recorder.set(r);
        recording.incrementAndGet();
        try {
            recorded = device.record(() -> result.value = code.get());
        } catch (RuntimeException | Error e) {
            r.release();
            throw e;
        } finally {
            recording.decrementAndGet();
            recorder.remove();
        }
        return new DeviceGraph<>(recorded, result.value, recorded.perReplay(), r::release);
    }

    /** The temperature clock this thread's launches read from ({@link #clocked}): the step the host is at, the Philox blocks per step. */
    private record Clocked(TemperatureClock clock, int step, long blocksPerStep) {}

    private final ThreadLocal<Clocked> clocked = new ThreadLocal<>();

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
        if (clock.backend() != this || step < 0 || step >= clock.steps() || blocksPerStep < 0) {
            throw new IllegalArgumentException("a temperature clock of " + clock.backend().name() + " bound on " + name() + " at step " + step
                    + " of " + clock.steps() + " (" + blocksPerStep + " Philox blocks per step)");
        }
        if (clocked.get() != null) {
            throw new IllegalStateException("a temperature clock bound inside a binding on " + name());
        }
        clocked.set(new Clocked(clock, step, blocksPerStep));
        return clocked::remove;
    }

    /** The bound clock's buffer after checking that {@code value} is its {@code k}-th value at the host's step; null when none is bound. */
    private Device.Buffer clock(String what, int k, float value) {
        Clocked c = clocked.get();
        if (c == null) {
            return null;
        }
        float expected = c.clock().value(c.step(), k);
        if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(value)) {
            throw new IllegalStateException(what + " " + value + " at step " + c.step() + " of a temperature clock that holds " + expected
                    + " there: the launch would not replay the schedule");
        }
        return c.clock().buffer();
    }

    /** This thread's open {@link #reclaim} scopes, innermost first, each with the buffers made in it. */
    private final ThreadLocal<ArrayDeque<List<BufferPool.Lease>>> scopes = ThreadLocal.withInitial(ArrayDeque::new);

    @Override
    public Reclaim reclaim() {
        ArrayDeque<List<BufferPool.Lease>> open = scopes.get();
        List<BufferPool.Lease> made = new ArrayList<>();
        open.push(made);
        return () -> {
            if (open.peek() != made) {
                throw new IllegalStateException("reclaim scopes closed out of order");
            }
            open.pop();
            made.forEach(BufferPool.Lease::release);
        };
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

    /**
     * A broadcast over at most four dimensions: the output's dimensions with those of size 1 dropped and
     * neighbours merged where both operands step through them contiguously, and each operand's strides.
     */
    record Broadcast(int[] dims, int[] a, int[] b) {
        static final int RANK = 4;

        static Broadcast of(int[] shape, int[] sa, int[] sb) {
            Shapes.Merged m = Shapes.merge(shape, sa, sb);
            int r = m.rank();
            int[] d = m.dims(), x = m.a(), z = m.b();
            if (r > RANK) {
                throw new IllegalArgumentException("broadcast of " + Shapes.str(shape) + ": more than " + RANK
                        + " dimensions remain after merging; the device kernels take " + RANK);
            }
            int[] dims = {1, 1, 1, 1}, as = new int[RANK], bs = new int[RANK];
            for (int i = 0; i < r; i++) { // right-aligned: the last dimension is the fastest
                dims[RANK - r + i] = d[i];
                as[RANK - r + i] = x[i];
                bs[RANK - r + i] = z[i];
            }
            return new Broadcast(dims, as, bs);
        }
    }

    @Override
    public Tensor reduce(ReduceOp op, Tensor a, int axis) {
        int[] shape = a.shape();
        Shapes.Block k = Shapes.reduction("reduce " + op, shape, axis);
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
        requireUnclocked("a single stream's Philox draw");
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
        requireUnclocked("a keyed stream's Philox draw");
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
        Clocked c = clocked.get();
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

    // ---------------------------------------------------------------- fused forms of fixed patterns (one launch each)

    /** One launch: the product with the tanh derivative as its epilogue. */
    @Override
    public Tensor denseBackTanh(Tensor g, Tensor w, Tensor h) {
        if (g.rank() != 2 || w.rank() != 2 || h.rank() != 2 || g.dim(1) != w.dim(0) || h.dim(0) != g.dim(0) || h.dim(1) != w.dim(1)) {
            throw new IllegalArgumentException("denseBackTanh: gradient " + Shapes.str(g.shape()) + ", weight " + Shapes.str(w.shape())
                    + ", hidden layer " + Shapes.str(h.shape()));
        }
        if (h.offset() != 0) { // the epilogue reads the hidden layer from its buffer's start
            return Backend.super.denseBackTanh(g, w, h);
        }
        int m = g.dim(0), n = w.dim(1), k = w.dim(0);
        Tensor y = empty(m, n);
        kernels.sgemm(m, n, k, new Kernels.Matrix(buffer(g), g.offset(), k, false), new Kernels.Matrix(buffer(w), w.offset(), n, false),
                new Kernels.Matrix(buffer(y), 0, n, false), false, Kernels.Epilogue.TANH_GRAD, null, buffer(h));
        return y;
    }

    /** Whether {@code x}'s shape ends {@code l}'s (x broadcasts over l's leading dimensions), with a last dimension of at least 1. */
    private static boolean trailing(Tensor x, Tensor l) {
        int[] xs = x.shape(), ls = l.shape();
        if (xs.length == 0 || xs.length > ls.length || xs[xs.length - 1] == 0) {
            return false;
        }
        for (int i = 1; i <= xs.length; i++) {
            if (xs[xs.length - i] != ls[ls.length - i]) {
                return false;
            }
        }
        return true;
    }

    /** One launch (gaussian_log_rows) where mu and logSigma have one shape that ends z's; else the composition. */
    @Override
    public GaussianLog gaussianLogDensity(Tensor z, Tensor mu, Tensor logSigma) {
        if (!mu.sameShape(logSigma) || !trailing(mu, z)) {
            return Backend.super.gaussianLogDensity(z, mu, logSigma);
        }
        int d = z.dim(-1);
        Tensor y = empty(Shapes.drop(z.shape(), z.rank() - 1)), u = empty(z.shape()), inv = empty(mu.shape());
        kernels.gaussianLog(z.size() / d, d, mu.size() / d, buffer(z), z.offset(), buffer(mu), mu.offset(), buffer(logSigma),
                logSigma.offset(), buffer(y), buffer(u), buffer(inv));
        return new GaussianLog(y, u, inv);
    }

    /** One launch (gaussian_log_grad) where the value came from one launch and mu and logSigma are wanted; else the composition. */
    @Override
    public GaussianLogGradient gaussianLogGrad(GaussianLog value, Tensor g, int[] zShape, int[] muShape, int[] logSigmaShape) {
        Tensor u = value.u(), inv = value.invSigma();
        int d = u.rank() == 0 ? 0 : u.dim(-1);
        boolean fused = d > 0 && u.offset() == 0 && inv.offset() == 0 && trailing(inv, u) && g.size() == u.size() / d
                && (zShape == null || Arrays.equals(zShape, u.shape())) && Arrays.equals(muShape, inv.shape())
                && Arrays.equals(logSigmaShape, inv.shape());
        if (!fused) {
            return Backend.super.gaussianLogGrad(value, g, zShape, muShape, logSigmaShape);
        }
        int batch = inv.size() / d;
        Tensor gz = zShape == null ? null : empty(zShape), gmu = empty(muShape), gls = empty(logSigmaShape);
        kernels.gaussianLogGrad(u.size() / inv.size(), batch, d, buffer(u), buffer(inv), buffer(g), g.offset(), gz == null ? null : buffer(gz),
                buffer(gmu), buffer(gls));
        return new GaussianLogGradient(gz, gmu, gls);
    }

    /** One launch (reparameterize) where mu and logSigma have one shape that ends eps's; else the composition. */
    @Override
    public Reparameterized reparameterize(Tensor mu, Tensor logSigma, Tensor eps) {
        if (!mu.sameShape(logSigma) || !trailing(mu, eps)) {
            return Backend.super.reparameterize(mu, logSigma, eps);
        }
        Tensor z = empty(eps.shape()), sigma = empty(mu.shape());
        kernels.reparameterize(eps.size(), mu.size(), buffer(mu), mu.offset(), buffer(logSigma), logSigma.offset(), buffer(eps), eps.offset(),
                buffer(z), buffer(sigma));
        return new Reparameterized(z, sigma);
    }

    /** One launch (reparameterize_grad) where mu's shape is sigma's and ends g's and eps's (one shape); else the composition. */
    @Override
    public ReparameterizedGradient reparameterizeGrad(Tensor g, Tensor eps, Tensor sigma, int[] muShape) {
        if (!g.sameShape(eps) || !Arrays.equals(muShape, sigma.shape()) || !trailing(sigma, g) || sigma.offset() != 0) {
            return Backend.super.reparameterizeGrad(g, eps, sigma, muShape);
        }
        Tensor dmu = empty(muShape), dls = empty(muShape);
        kernels.reparameterizeGrad(g.size() / sigma.size(), sigma.size(), buffer(g), g.offset(), buffer(eps), eps.offset(), buffer(sigma),
                buffer(dmu), buffer(dls));
        return new ReparameterizedGradient(dmu, dls);
    }

    /** One launch (gaussian_kl_rows) where mu and logSigma have one shape; else the composition. */
    @Override
    public Kl gaussianKl(Tensor mu, Tensor logSigma) {
        if (!mu.sameShape(logSigma) || mu.rank() == 0 || mu.dim(-1) == 0) {
            return Backend.super.gaussianKl(mu, logSigma);
        }
        int d = mu.dim(-1);
        Tensor kl = empty(Shapes.drop(mu.shape(), mu.rank() - 1)), var = empty(mu.shape());
        kernels.gaussianKl(mu.size() / d, d, buffer(mu), mu.offset(), buffer(logSigma), logSigma.offset(), buffer(kl), buffer(var));
        return new Kl(kl, var);
    }

    /** One launch (gaussian_kl_grad) where g holds one value per row; else the composition. */
    @Override
    public KlGradient gaussianKlGrad(Tensor mu, Tensor variance, Tensor g) {
        int d = mu.rank() == 0 ? 0 : mu.dim(-1);
        if (!mu.sameShape(variance) || d == 0 || g.size() != mu.size() / d) {
            return Backend.super.gaussianKlGrad(mu, variance, g);
        }
        Tensor dmu = empty(mu.shape()), dls = empty(mu.shape());
        kernels.gaussianKlGrad(mu.size(), d, buffer(mu), mu.offset(), buffer(variance), variance.offset(), buffer(g), g.offset(),
                buffer(dmu), buffer(dls));
        return new KlGradient(dmu, dls);
    }

    /** One launch (gaussian_terms). */
    @Override
    public GaussianTerms gaussianTerms(Tensor logSigma, float offset) {
        if (logSigma.rank() != 2) {
            throw new IllegalArgumentException("gaussianTerms: log standard deviations of shape " + Shapes.str(logSigma.shape())
                    + "; they must be [B, Z]");
        }
        Tensor a = empty(logSigma.shape()), s = empty(logSigma.shape()), constant = empty(logSigma.dim(0));
        kernels.gaussianTerms(logSigma.dim(0), logSigma.dim(1), buffer(logSigma), logSigma.offset(), offset, buffer(a), buffer(s),
                buffer(constant));
        return new GaussianTerms(a, s, constant);
    }

    /** One launch (scaled_sum). */
    @Override
    public Tensor scaledSum(Tensor a, Tensor w, float scale) {
        if (w != null && w.size() != a.size()) {
            throw new IllegalArgumentException("scaledSum: weights of shape " + Shapes.str(w.shape()) + " for " + Shapes.str(a.shape()));
        }
        Tensor y = empty();
        kernels.scaledSum(a.size(), buffer(a), a.offset(), w == null ? null : buffer(w), w == null ? 0 : w.offset(), scale, buffer(y));
        return y;
    }

    /** One launch (scaled_sum_grad). */
    @Override
    public Tensor scaledSumGrad(Tensor g, Tensor w, float scale, int[] shape) {
        int n = Shapes.size(shape);
        if (g.size() != 1 || (w != null && w.size() != n)) {
            throw new IllegalArgumentException("scaledSumGrad: a gradient of shape " + Shapes.str(g.shape()) + " for " + Shapes.str(shape)
                    + (w == null ? "" : " with weights of shape " + Shapes.str(w.shape())));
        }
        Tensor y = empty(shape);
        kernels.scaledSumGrad(n, buffer(g), g.offset(), scale, w == null ? null : buffer(w), w == null ? 0 : w.offset(), buffer(y));
        return y;
    }

    /** One launch (expand_axis). */
    @Override
    public Tensor expand(Tensor g, int axis, int[] shape) {
        Shapes.Block k = Shapes.block("expand", shape, axis);
        if (!Arrays.equals(g.shape(), Shapes.drop(shape, k.axis()))) {
            throw new IllegalArgumentException("expand: " + Shapes.str(g.shape()) + " along axis " + k.axis() + " to " + Shapes.str(shape));
        }
        Tensor y = empty(shape);
        kernels.expand(k.outer(), k.n(), k.inner(), buffer(g), g.offset(), buffer(y));
        return y;
    }

    /** One launch (logsumexp_axis): one work-item per output. */
    @Override
    public Tensor logSumExp(Tensor a, int axis) {
        int[] shape = a.shape();
        Shapes.Block k = Shapes.reduction("logsumexp", shape, axis);
        Tensor y = empty(Shapes.drop(shape, k.axis()));
        kernels.logSumExp(k.outer(), k.n(), k.inner(), buffer(a), a.offset(), buffer(y));
        return y;
    }

    /** One launch (logsumexp_grad). */
    @Override
    public Tensor logSumExpGrad(Tensor a, Tensor y, Tensor g, int axis) {
        int[] shape = a.shape();
        Shapes.Block k = Shapes.block("logsumexp", shape, axis);
        if (!Arrays.equals(y.shape(), Shapes.drop(shape, k.axis())) || g.size() != y.size()) {
            throw new IllegalArgumentException("logSumExpGrad: " + Shapes.str(shape) + " over axis " + k.axis() + " with a result of shape "
                    + Shapes.str(y.shape()) + " and a gradient of " + Shapes.str(g.shape()));
        }
        Tensor out = empty(shape);
        kernels.logSumExpGrad(k.outer(), k.n(), k.inner(), buffer(a), a.offset(), buffer(y), y.offset(), buffer(g),
                g.offset(), buffer(out));
        return out;
    }

    /** One launch of bernoulli_rows (with no prior) where x broadcasts over the logits' leading dimensions; else the composition. */
    @Override
    public Tensor bernoulliLogLikelihood(Tensor l, Tensor x) {
        if (!trailing(x, l) || l.offset() != 0 || x.offset() != 0) {
            return Backend.super.bernoulliLogLikelihood(l, x);
        }
        int d = l.dim(-1);
        Tensor y = empty(Shapes.drop(l.shape(), l.rank() - 1));
        kernels.bernoulliRows(l.size() / d, d, x.size() / d, 0, buffer(l), buffer(x), null, null, buffer(y), false);
        return y;
    }

    /** One launch (bernoulli_score) where x broadcasts over the logits' leading dimensions; else the composition. */
    @Override
    public Tensor bernoulliScore(Tensor l, Tensor x, Tensor g) {
        int d = l.rank() == 0 ? 0 : l.dim(-1);
        if (!trailing(x, l) || d == 0 || g.size() != l.size() / d) {
            return Backend.super.bernoulliScore(l, x, g);
        }
        Tensor y = empty(l.shape());
        kernels.bernoulliScore(l.size(), d, x.size() / d, buffer(l), l.offset(), buffer(x), x.offset(), buffer(g), g.offset(), buffer(y));
        return y;
    }

    /** One launch of bernoulli_rows with no data, only the prior. */
    @Override
    public Tensor standardNormalLogDensity(Tensor z) {
        if (z.rank() == 0 || z.offset() != 0) {
            return Backend.super.standardNormalLogDensity(z);
        }
        int d = z.dim(-1);
        Tensor y = empty(Shapes.drop(z.shape(), z.rank() - 1));
        kernels.bernoulliRows(d == 0 ? y.size() : z.size() / d, 0, 1, d, null, null, buffer(z), null, buffer(y), false);
        return y;
    }

    @Override
    public Tensor dense(Tensor x, Tensor w, Tensor b, boolean tanh) {
        if (b.offset() != 0) { // the epilogue reads the bias from its buffer's start
            return Backend.super.dense(x, w, b, tanh);
        }
        if (x.rank() != 2 || w.rank() != 2 || x.dim(1) != w.dim(1) || b.size() != w.dim(0)) {
            throw new IllegalArgumentException("dense: input " + Shapes.str(x.shape()) + ", weight " + Shapes.str(w.shape())
                    + ", bias " + Shapes.str(b.shape()));
        }
        int m = x.dim(0), n = w.dim(0), k = w.dim(1);
        Tensor y = empty(m, n);
        kernels.sgemm(m, n, k, new Kernels.Matrix(buffer(x), x.offset(), k, false), new Kernels.Matrix(buffer(w), w.offset(), k, true),
                new Kernels.Matrix(buffer(y), 0, n, false), false, tanh ? Kernels.Epilogue.BIAS_TANH : Kernels.Epilogue.BIAS,
                at(b), null);
        return y;
    }

    @Override
    public Tensor mix(Tensor a, float ca, Tensor b, float cb) {
        requireSameShape("mix", a, b);
        Tensor y = empty(a.shape());
        kernels.mix(a.size(), buffer(a), a.offset(), ca, buffer(b), b.offset(), cb, buffer(y));
        return y;
    }

    @Override
    public Tensor scaledDifference(Tensor z, Tensor mu, Tensor a, Tensor b) {
        int inner = mu.size();
        int[] zs = z.shape(), ms = mu.shape();
        boolean suffix = ms.length <= zs.length && a.sameShape(mu) && (b == null || b.sameShape(mu)) && inner > 0 && z.size() % inner == 0;
        for (int i = 0; suffix && i < ms.length; i++) {
            suffix = ms[ms.length - 1 - i] == zs[zs.length - 1 - i];
        }
        if (!suffix) {
            throw new IllegalArgumentException("scaledDifference: " + Shapes.str(ms) + ", " + Shapes.str(a.shape())
                    + (b == null ? "" : ", " + Shapes.str(b.shape())) + " must be one shape that ends " + Shapes.str(zs));
        }
        Tensor y = empty(zs);
        kernels.scaledDifference(z.size(), inner, buffer(z), z.offset(), buffer(mu), mu.offset(), buffer(a), a.offset(),
                b == null ? null : buffer(b), b == null ? 0 : b.offset(), buffer(y));
        return y;
    }

    @Override
    public Density diagonalGaussian(Tensor z, Tensor mu, Tensor a, Tensor s, Tensor constant) {
        if (z.rank() != 3 || mu.rank() != 2 || z.dim(1) != mu.dim(0) || z.dim(2) != mu.dim(1) || !a.sameShape(mu) || !s.sameShape(mu)
                || constant.size() != mu.dim(0) || mu.offset() + a.offset() + s.offset() + constant.offset() != 0) {
            throw new IllegalArgumentException("diagonalGaussian: chains " + Shapes.str(z.shape()) + " against parameters "
                    + Shapes.str(mu.shape()) + ", " + Shapes.str(a.shape()) + ", " + Shapes.str(s.shape()) + " and constants "
                    + Shapes.str(constant.shape()) + " (from offset 0); they must be [K, B, Z], [B, Z] and [B]");
        }
        int k = z.dim(0), b = z.dim(1), d = z.dim(2);
        Tensor log = empty(k, b), grad = empty(z.shape());
        kernels.diagonalGaussian(k * b, d, b, buffer(z), z.offset(), buffer(mu), buffer(a), buffer(s), buffer(constant), buffer(log),
                buffer(grad));
        return new Density(log, grad);
    }

    @Override
    public Leapfrog kickDrift(Tensor p, Tensor eps, float scale, Tensor g, Tensor z) {
        requireSameShape("kickDrift", p, g);
        return kick(p, eps, scale, g, null, 1f, null, 0f, z);
    }

    @Override
    public Leapfrog temperedKickDrift(Tensor p, Tensor eps, float scale, Tensor g0, GaussianScore q0, float b0, Tensor g1, float b1,
                                      Tensor z) {
        requireSameShape("temperedKickDrift", p, g1);
        if (g0 != null) {
            requireSameShape("temperedKickDrift", p, g0);
        } else {
            Tensor mu = q0.mu();
            if (z == null || mu.rank() != 2 || !q0.a().sameShape(mu) || !q0.s().sameShape(mu) || p.rank() != 2 || p.dim(1) != mu.dim(1)
                    || p.dim(0) % mu.dim(0) != 0) {
                throw new IllegalArgumentException("temperedKickDrift: a Gaussian score of shape " + Shapes.str(mu.shape()) + " for chains "
                        + Shapes.str(p.shape()) + (z == null ? " with no position" : "") + "; it must be [B, Z] for chains [K B, Z]");
            }
        }
        return kick(p, eps, scale, g0, q0, b0, g1, b1, z);
    }

    /** One hmc_kick_drift launch: gradient g0 or the score q0, mixed with g1 when g1 is not null. */
    private Leapfrog kick(Tensor p, Tensor eps, float scale, Tensor g0, GaussianScore q0, float b0, Tensor g1, float b1, Tensor z) {
        int d = p.dim(p.rank() - 1), chains = p.size() / Math.max(d, 1);
        boolean perChain = perChain("kickDrift", eps, chains);
        Tensor momentum = empty(p.shape());
        Tensor position = null;
        if (z != null) {
            requireSameShape("kickDrift", p, z);
            position = empty(z.shape());
        }
        Kernels.Score score = q0 == null ? null : new Kernels.Score(q0.mu().size(), buffer(q0.mu()), q0.mu().offset(), buffer(q0.a()),
                q0.a().offset(), buffer(q0.s()), q0.s().offset());
        Kernels.Tempered tempered = g1 == null ? null
                : new Kernels.Tempered(b0, buffer(g1), g1.offset(), b1, clocked(clock("the kick's b0", 0, b0), clock("the kick's b1", 1, b1)));
        kernels.hmcKickDrift(p.size(), d, buffer(eps), eps.offset(), perChain, scale, buffer(p), p.offset(), g0 == null ? null : buffer(g0),
                g0 == null ? 0 : g0.offset(), score, tempered, buffer(momentum), z == null ? null : buffer(z), z == null ? 0 : z.offset(),
                position == null ? null : buffer(position), z != null);
        return new Leapfrog(momentum, position);
    }

    @Override
    public Metropolis metropolis(Tensor logf0, Tensor p0, Tensor logf1, Tensor p1, Tensor u, float limit, Tensor divergentInto) {
        return metropolisTest(logf0, null, p0, logf1, null, p1, 1f, 0f, u, limit, divergentInto);
    }

    @Override
    public Metropolis temperedMetropolis(Tensor l00, Tensor l01, Tensor p0, Tensor l10, Tensor l11, Tensor p1, float b0, float b1,
                                         Tensor u, float limit, Tensor divergentInto) {
        return metropolisTest(l00, l01, p0, l10, l11, p1, b0, b1, u, limit, divergentInto);
    }

    /** One hmc_metropolis launch: on logf0 and logf1, or the tempered mixes with logg0 and logg1 when those are not null. */
    private Metropolis metropolisTest(Tensor logf0, Tensor logg0, Tensor p0, Tensor logf1, Tensor logg1, Tensor p1, float b0, float b1,
                                      Tensor u, float limit, Tensor divergentInto) {
        requireSameShape("metropolis", p0, p1);
        int n = p0.dim(0), d = p0.size() / Math.max(n, 1);
        for (Tensor t : new Tensor[] {logf0, logf1, u, logg0, logg1}) {
            if (t != null && t.size() != n) {
                throw new IllegalArgumentException("metropolis: " + n + " chains but a per-chain operand of shape " + Shapes.str(t.shape()));
            }
        }
        if (divergentInto != null && divergentInto.size() != n) {
            throw new IllegalArgumentException("metropolis: " + n + " chains but divergences of shape " + Shapes.str(divergentInto.shape()));
        }
        Tensor accepted = empty(n), divergent = empty(n), energyChange = empty(n);
        Device.Buffer clock = logg0 == null ? null
                : clocked(clock("the Metropolis test's b0", 0, b0), clock("the Metropolis test's b1", 1, b1));
        kernels.hmcMetropolis(n, d, buffer(p0), p0.offset(), buffer(logf0), logf0.offset(), buffer(p1), p1.offset(), buffer(logf1),
                logf1.offset(), logg0 == null ? null : buffer(logg0), logg0 == null ? 0 : logg0.offset(), logg1 == null ? null : buffer(logg1),
                logg1 == null ? 0 : logg1.offset(), b0, b1, buffer(u), u.offset(), limit, buffer(accepted), buffer(divergent),
                buffer(energyChange), divergentInto == null ? null : at(divergentInto), clock);
        return new Metropolis(accepted, divergent, energyChange);
    }

    @Override
    public void selectInto(Tensor mask, Tensor a, Tensor into) {
        selectAllInto(mask, List.of(a), List.of(into));
    }

    /** {@link Kernels#SELECT_SLOTS} tensors per launch. */
    @Override
    public void selectAllInto(Tensor mask, List<Tensor> a, List<Tensor> into) {
        if (a.size() != into.size()) {
            throw new IllegalArgumentException("selectAllInto: " + a.size() + " tensors into " + into.size());
        }
        int rows = mask.size();
        for (int i = 0; i < a.size(); i++) {
            CpuBackend.whereInner(mask, a.get(i), into.get(i)); // the mask leads each tensor's shape, as where has it
        }
        if (rows == 0) {
            return;
        }
        List<Kernels.Selected> slots = new ArrayList<>(Kernels.SELECT_SLOTS);
        for (int i = 0; i < a.size(); i++) {
            Tensor ai = a.get(i), yi = into.get(i);
            slots.add(new Kernels.Selected(ai.size() / rows, buffer(ai), ai.offset(), buffer(yi), yi.offset()));
            if (slots.size() == Kernels.SELECT_SLOTS || i == a.size() - 1) {
                kernels.selectRowsInto(rows, buffer(mask), mask.offset(), slots);
                slots.clear();
            }
        }
    }

    @Override
    public void reweight(Tensor l0, Tensor l1, float dbeta, Tensor w, Tensor c, Tensor wInto, Tensor cInto) {
        int n = w.size();
        for (Tensor t : new Tensor[] {l0, l1, c, wInto, cInto}) {
            if (t.size() != n) {
                throw new IllegalArgumentException("reweight: " + n + " chains but an operand of shape " + Shapes.str(t.shape()));
            }
        }
        kernels.aisReweight(n, buffer(l0), l0.offset(), buffer(l1), l1.offset(), dbeta, buffer(w), w.offset(), buffer(c), c.offset(),
                at(wInto), at(cInto), clock("the reweighting's dbeta", 2, dbeta));
    }

    @Override
    public void adaptStepSizes(Tensor accepted, int groups, int threshold, float up, float down, float lo, float hi, Tensor sizes,
                               Tensor countInto) {
        if (groups < 1 || accepted.size() % groups != 0 || sizes.size() != groups || countInto.size() != 1) {
            throw new IllegalArgumentException("adaptStepSizes: " + accepted.size() + " chains in " + groups + " groups with "
                    + sizes.size() + " sizes");
        }
        Clocked c = clocked.get();
        int step = c == null ? 0 : c.step();
        if (countInto.offset() < step) {
            throw new IllegalStateException("adaptStepSizes: a count at offset " + countInto.offset() + " under a temperature clock at step " + step
                    + ": the counts of a clocked run are one per step");
        }
        kernels.adaptStepSizes(groups, accepted.size() / groups, buffer(accepted), accepted.offset(), threshold, up, down, lo, hi,
                buffer(sizes), sizes.offset(), buffer(countInto), countInto.offset() - step, c == null ? null : c.clock().buffer());
    }

    @Override
    public void adamClock(Tensor clock, float beta1, float beta2, float eps, Tensor... gates) {
        if (clock.size() != 4) {
            throw new IllegalArgumentException("adamClock: the clock holds [t, stepSize, epsHat, lr], got shape " + Shapes.str(clock.shape()));
        }
        kernels.adamClock(at(clock), beta1, beta2, eps, gate(gates, 0), gate(gates, 1));
    }

    @Override
    public void adamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, float beta1, float beta2, Tensor clock, Tensor... gates) {
        adamUpdateAll(List.of(w), List.of(g), List.of(m), List.of(v), beta1, beta2, clock, gates);
    }

    /** {@link Kernels#ADAM_SLOTS} parameter tensors per launch. */
    @Override
    public void adamUpdateAll(List<Tensor> w, List<Tensor> g, List<Tensor> m, List<Tensor> v, float beta1, float beta2, Tensor clock,
                              Tensor... gates) {
        if (g.size() != w.size() || m.size() != w.size() || v.size() != w.size()) {
            throw new IllegalArgumentException("adamUpdateAll: " + w.size() + " parameter tensors with " + g.size() + " gradients and "
                    + m.size() + ", " + v.size() + " moments");
        }
        List<Kernels.AdamSlot> slots = new ArrayList<>(Kernels.ADAM_SLOTS);
        for (int i = 0; i < w.size(); i++) {
            Tensor wi = w.get(i), gi = g.get(i), mi = m.get(i), vi = v.get(i);
            if (gi.size() != wi.size() || mi.size() != wi.size() || vi.size() != wi.size()) {
                throw new IllegalArgumentException("adamUpdate: parameters of shape " + Shapes.str(wi.shape()) + " with a gradient of "
                        + Shapes.str(gi.shape()) + " and moments of " + Shapes.str(mi.shape()) + ", " + Shapes.str(vi.shape()));
            }
            slots.add(new Kernels.AdamSlot(wi.size(), buffer(wi), wi.offset(), buffer(gi), gi.offset(), at(mi), at(vi)));
            if (slots.size() == Kernels.ADAM_SLOTS || i == w.size() - 1) {
                kernels.adamUpdate(slots, beta1, beta2, at(clock), gate(gates, 0), gate(gates, 1));
                slots.clear();
            }
        }
    }

    /** Gate {@code i} of at most two one-element tensors at offset 0, or null. */
    private Device.Buffer gate(Tensor[] gates, int i) {
        if (gates.length > 2) {
            throw new IllegalArgumentException("Adam takes at most two gates, got " + gates.length);
        }
        return i < gates.length ? at(gates[i]) : null;
    }

    /** Fails while a temperature clock is bound: {@code what} has a scalar the clock does not advance. */
    private void requireUnclocked(String what) {
        if (clocked.get() != null) {
            throw new IllegalStateException(what + " under a temperature clock on " + name() + ": its position would not advance from step to step");
        }
    }

    /** The clock both checks gave (the same buffer, or both null). */
    private static Device.Buffer clocked(Device.Buffer first, Device.Buffer second) {
        return first == null ? second : first;
    }

    /** The buffer of a tensor the kernels write from its offset, which must be 0 (they take no output offsets). */
    private Device.Buffer at(Tensor t) {
        if (t.offset() != 0) {
            throw new IllegalArgumentException("an output tensor at offset " + t.offset() + "; the fused kernels write from offset 0");
        }
        return buffer(t);
    }

    private static void requireSameShape(String op, Tensor a, Tensor b) {
        if (!a.sameShape(b)) {
            throw new IllegalArgumentException(op + ": shapes " + Shapes.str(a.shape()) + " and " + Shapes.str(b.shape()) + " differ");
        }
    }

    /** Whether step sizes {@code eps} hold one value per chain ({@code [N, 1]}) rather than one for all ({@code [1, 1]}). */
    private static boolean perChain(String op, Tensor eps, int chains) {
        if (eps.size() == chains && chains != 1) {
            return true;
        }
        if (eps.size() == 1) {
            return false;
        }
        throw new IllegalArgumentException(op + ": step sizes of shape " + Shapes.str(eps.shape()) + " for " + chains
                + " chains; they must be [" + chains + ", 1] or [1, 1]");
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
