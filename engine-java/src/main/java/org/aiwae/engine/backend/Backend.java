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
     * {@link #philox(long, long, long, boolean, int...)} with the stream's seed and id read from {@code key} (four
     * words in this backend's memory: {@code RandomStream.keyWords()}), so that work recorded once can be replayed
     * with another stream by rewriting the key. Devices only.
     */
    default Tensor philox(Tensor key, long position, boolean normal, int... shape) {
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

    // ---------------------------------------------------------------- fused forms of fixed patterns
    // HMC, AIS and their step-size rule repeat these patterns many times per training step. Each default is the
    // composition from the primitives above, which is what the CPU backend runs (its bits); a device backend
    // overrides it with one kernel that does the same arithmetic in one launch (FusedOpsTest: equal on every
    // backend to float rounding). Outputs named "into" are written in place.

    /** {@code a ca + b cb} elementwise ({@code a} and {@code b} of one shape): a tempered mix of two terms. */
    default Tensor mix(Tensor a, float ca, Tensor b, float cb) {
        return binary(BinaryOp.ADD, binary(BinaryOp.MUL, a, ca), binary(BinaryOp.MUL, b, cb));
    }

    /**
     * {@code ((z - mu) a) b} elementwise, with {@code mu}, {@code a} and {@code b} of one shape that broadcasts
     * against z's trailing dimensions ({@code [B, Z]} against {@code [K, B, Z]}); {@code b} may be null (left out):
     * a diagonal Gaussian's standardised values ({@code a = 1 / sigma}) and its score ({@code b = -1 / sigma}).
     */
    default Tensor scaledDifference(Tensor z, Tensor mu, Tensor a, Tensor b) {
        Tensor u = binary(BinaryOp.MUL, binary(BinaryOp.SUB, z, mu), a);
        return b == null ? u : binary(BinaryOp.MUL, u, b);
    }

    /** A log-density per chain and its gradient. */
    record Density(Tensor logDensity, Tensor gradient) {}

    /**
     * A diagonal Gaussian's log-density and score at chains {@code z [K, B, Z]}, data point b's from
     * {@code mu [B, Z]}, {@code a = 1 / sigma}, {@code s = -1 / sigma} and {@code constant [B]}
     * ({@code -sum log sigma - Z log(2 pi) / 2}): with {@code u = (z - mu) a}, {@code log q = -|u|^2 / 2 + constant}
     * ({@code [K, B]}) and {@code d log q / dz = u s} ({@code [K, B, Z]}).
     */
    default Density diagonalGaussian(Tensor z, Tensor mu, Tensor a, Tensor s, Tensor constant) {
        Tensor u = scaledDifference(z, mu, a, null);
        Tensor log = binary(BinaryOp.ADD, binary(BinaryOp.MUL, reduce(ReduceOp.SUM, unary(UnaryOp.SQUARE, u), 2), -0.5f), constant);
        return new Density(log, binary(BinaryOp.MUL, u, s));
    }

    /** A leapfrog kick's momentum and, after a drift, position. */
    record Leapfrog(Tensor momentum, Tensor position) {}

    /**
     * A leapfrog kick and drift of chains {@code [N, D]} with step sizes {@code eps} ({@code [N, 1]} or {@code [1, 1]}):
     * {@code p' = p + (eps scale) g}, then {@code z' = z + eps p'} unless {@code z} is null (a kick alone: position null).
     */
    default Leapfrog kickDrift(Tensor p, Tensor eps, float scale, Tensor g, Tensor z) {
        Tensor e = scale == 1 ? eps : binary(BinaryOp.MUL, eps, scale);
        Tensor momentum = binary(BinaryOp.ADD, p, binary(BinaryOp.MUL, e, g));
        return new Leapfrog(momentum, z == null ? null : binary(BinaryOp.ADD, z, binary(BinaryOp.MUL, eps, momentum)));
    }

    /** A Metropolis test's outcome per chain: accepted (1 or 0), divergent (1 or 0) and the energy change. */
    record Metropolis(Tensor accepted, Tensor divergent, Tensor energyChange) {}

    /**
     * The Metropolis test of HMC for chains {@code [N, D]}: with {@code H = |p|^2 / 2 - log f} at the start
     * ({@code logf0 [N]}, {@code p0}) and at the proposal ({@code logf1}, {@code p1}) and {@code dH = H1 - H0},
     * accepted where {@code u < exp(-dH)}, divergent where not {@code dH < limit} (a NaN too). When
     * {@code divergentInto} is not null, the divergences are also added to it in place.
     */
    default Metropolis metropolis(Tensor logf0, Tensor p0, Tensor logf1, Tensor p1, Tensor u, float limit, Tensor divergentInto) {
        Tensor energyChange = binary(BinaryOp.SUB, energy(this, logf1, p1), energy(this, logf0, p0));
        // u < exp(-dH): false for a NaN energy and, in float, for any dH above ~104
        Tensor accepted = binary(BinaryOp.LESS, u, unary(UnaryOp.EXP, unary(UnaryOp.NEG, energyChange)));
        Tensor divergent = binary(BinaryOp.ADD, binary(BinaryOp.MUL, binary(BinaryOp.LESS, energyChange, limit), -1f), 1f);
        if (divergentInto != null) {
            divergentInto.copyFrom(binary(BinaryOp.ADD, divergentInto, divergent));
        }
        return new Metropolis(accepted, divergent, energyChange);
    }

    private static Tensor energy(Backend be, Tensor logf, Tensor p) {
        Tensor kinetic = be.binary(BinaryOp.MUL, be.reduce(ReduceOp.SUM, be.unary(UnaryOp.SQUARE, p), 1), 0.5f);
        return be.binary(BinaryOp.SUB, kinetic, logf);
    }

    /** {@code into = mask ? a : into} row by row, in place ({@link #where}'s rule for the mask). */
    default void selectInto(Tensor mask, Tensor a, Tensor into) {
        into.copyFrom(where(mask, a, into));
    }

    /**
     * AIS's reweighting with Kahan's compensation: adds {@code (l1 - l0) dbeta} to the sum {@code w - c} of each
     * chain, writing the new sum and compensation to {@code wInto} and {@code cInto} (which may be {@code w} and
     * {@code c}): {@code y = (l1 - l0) dbeta - c, s = w + y, c' = (s - w) - y, w' = s}.
     */
    default void reweight(Tensor l0, Tensor l1, float dbeta, Tensor w, Tensor c, Tensor wInto, Tensor cInto) {
        Tensor y = binary(BinaryOp.SUB, binary(BinaryOp.MUL, binary(BinaryOp.SUB, l1, l0), dbeta), c);
        Tensor sum = binary(BinaryOp.ADD, w, y);
        Tensor compensation = binary(BinaryOp.SUB, binary(BinaryOp.SUB, sum, w), y);
        wInto.copyFrom(sum);
        cInto.copyFrom(compensation);
    }

    /**
     * The multiplicative step-size rule for chains laid out {@code [per, groups]} ({@code accepted [per * groups]},
     * 1 or 0): each group's size in {@code sizes [groups]} is multiplied by {@code up} where at least
     * {@code threshold} of its chains accepted, else by {@code down}, and kept in [{@code lo}, {@code hi}];
     * {@code countInto} (one element) gets the number of accepting chains. In place, on the sizes' memory.
     */
    default void adaptStepSizes(Tensor accepted, int groups, int threshold, float up, float down, float lo, float hi, Tensor sizes,
                                Tensor countInto) {
        int n = accepted.size();
        float[] counts = reduce(ReduceOp.SUM, accepted.reshape(n / groups, groups), 0).toArray();
        float[] s = sizes.toArray();
        float all = 0;
        for (int g = 0; g < groups; g++) {
            s[g] = Math.min(hi, Math.max(lo, s[g] * (counts[g] >= threshold ? up : down)));
            all += counts[g];
        }
        sizes.copyFrom(s);
        countInto.copyFrom(new float[] {all});
    }

    /**
     * Adam's per-step scalars in {@code clock = [t, stepSize, epsHat, lr]}: unless a gate (one element each, e.g. a
     * step's losses) is not finite, {@code t += 1}, {@code stepSize = lr sqrt(1 - beta2^t) / (1 - beta1^t)} and
     * {@code epsHat = eps sqrt(1 - beta2^t)}, in double. Kept on the device with the moments, so a training step
     * reads nothing back.
     */
    default void adamClock(Tensor clock, float beta1, float beta2, float eps, Tensor... gates) {
        if (!finite(gates)) {
            return;
        }
        float[] c = clock.toArray();
        c[0] += 1;
        double c1 = 1 - StrictMath.pow(beta1, c[0]), c2 = 1 - StrictMath.pow(beta2, c[0]);
        c[1] = (float) (c[3] * Math.sqrt(c2) / c1);
        c[2] = (float) (eps * Math.sqrt(c2));
        clock.copyFrom(c);
    }

    /**
     * Adam's update in place, unless a gate is not finite: {@code m = beta1 m + (1 - beta1) g},
     * {@code v = beta2 v + (1 - beta2) g^2}, {@code w -= stepSize m / (sqrt(v) + epsHat)} with the scalars of
     * {@code clock} ({@link #adamClock}); {@code g} has w's size.
     */
    default void adamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, float beta1, float beta2, Tensor clock, Tensor... gates) {
        if (!finite(gates)) {
            return;
        }
        float stepSize = clock.get(1), epsHat = clock.get(2);
        Tensor gr = g.reshape(w.shape());
        m.copyFrom(binary(BinaryOp.ADD, binary(BinaryOp.MUL, m, beta1), binary(BinaryOp.MUL, gr, 1 - beta1)));
        v.copyFrom(binary(BinaryOp.ADD, binary(BinaryOp.MUL, v, beta2), binary(BinaryOp.MUL, unary(UnaryOp.SQUARE, gr), 1 - beta2)));
        Tensor denom = binary(BinaryOp.ADD, unary(UnaryOp.SQRT, v), epsHat);
        w.copyFrom(binary(BinaryOp.SUB, w, binary(BinaryOp.MUL, binary(BinaryOp.DIV, m, denom), stepSize)));
    }

    private static boolean finite(Tensor... gates) {
        for (Tensor t : gates) {
            if (!Float.isFinite(t.item())) {
                return false;
            }
        }
        return true;
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
