package org.aiwae.engine.autodiff;

import static org.aiwae.engine.backend.BinaryOp.ADD;
import static org.aiwae.engine.backend.BinaryOp.DIV;
import static org.aiwae.engine.backend.BinaryOp.MUL;
import static org.aiwae.engine.backend.BinaryOp.SUB;

import java.util.List;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.backend.UnaryOp;

/**
 * The differentiable operations. Each op computes its forward value with the primitives of the
 * backend its operands live on ({@link Backends#of}; operands on two backends are an error) and,
 * right beside it, the function that sends the output gradient to its inputs.
 * Binary ops broadcast like NumPy; the backward of a broadcast operand sums the gradient back
 * to its shape.
 */
public final class Ops {
    private Ops() {}

    private static Backend of3(String op, Var a, Var b, Var c) {
        Backend be = Backends.of(op, a.value(), b.value());
        Backends.of(op, a.value(), c.value());
        return be;
    }

    /** The gradient of a broadcast operand: summed back to the operand's shape. */
    private static Tensor unbroadcast(Backend be, Tensor g, Var operand) {
        return be.summedTo(g, operand.value().shape());
    }

    // ---------------------------------------------------------------- arithmetic

    public static Var add(Var a, Var b) {
        Backend be = Backends.of("add", a.value(), b.value());
        Tensor y = be.binary(ADD, a.value(), b.value());
        return Var.result("add", y, g -> {
            a.accumulate(unbroadcast(be, g, a));
            b.accumulate(unbroadcast(be, g, b));
        }, a, b);
    }

    public static Var sub(Var a, Var b) {
        Backend be = Backends.of("sub", a.value(), b.value());
        Tensor y = be.binary(SUB, a.value(), b.value());
        return Var.result("sub", y, g -> {
            a.accumulate(unbroadcast(be, g, a));
            if (b.requiresGrad()) {
                b.accumulate(unbroadcast(be, be.unary(UnaryOp.NEG, g), b));
            }
        }, a, b);
    }

    public static Var mul(Var a, Var b) {
        Backend be = Backends.of("mul", a.value(), b.value());
        Tensor y = be.binary(MUL, a.value(), b.value());
        return Var.result("mul", y, g -> {
            if (a.requiresGrad()) {
                a.accumulate(unbroadcast(be, be.binary(MUL, g, b.value()), a));
            }
            if (b.requiresGrad()) {
                b.accumulate(unbroadcast(be, be.binary(MUL, g, a.value()), b));
            }
        }, a, b);
    }

    public static Var div(Var a, Var b) {
        Backend be = Backends.of("div", a.value(), b.value());
        Tensor y = be.binary(DIV, a.value(), b.value());
        return Var.result("div", y, g -> {
            Tensor gOverB = be.binary(DIV, g, b.value());
            a.accumulate(unbroadcast(be, gOverB, a));
            if (b.requiresGrad()) { // d(a/b)/db = -y/b
                b.accumulate(unbroadcast(be, be.unary(UnaryOp.NEG, be.binary(MUL, gOverB, y)), b));
            }
        }, a, b);
    }

    public static Var add(Var a, float c) {
        Backend be = Backends.of(a.value());
        Tensor y = be.binary(ADD, a.value(), c);
        return Var.result("add", y, a::accumulate, a);
    }

    public static Var mul(Var a, float c) {
        Backend be = Backends.of(a.value());
        Tensor y = be.binary(MUL, a.value(), c);
        return Var.result("mul", y, g -> a.accumulate(be.binary(MUL, g, c)), a);
    }

    public static Var neg(Var a) {
        Backend be = Backends.of(a.value());
        Tensor y = be.unary(UnaryOp.NEG, a.value());
        return Var.result("neg", y, g -> a.accumulate(be.unary(UnaryOp.NEG, g)), a);
    }

    public static Var square(Var a) {
        Backend be = Backends.of(a.value());
        Tensor y = be.unary(UnaryOp.SQUARE, a.value());
        return Var.result("square", y, g -> a.accumulate(be.binary(MUL, be.binary(MUL, g, a.value()), 2f)), a);
    }

    // ---------------------------------------------------------------- functions

    public static Var exp(Var a) {
        Backend be = Backends.of(a.value());
        Tensor y = be.unary(UnaryOp.EXP, a.value());
        return Var.result("exp", y, g -> a.accumulate(be.binary(MUL, g, y)), a);
    }

    public static Var log(Var a) {
        Backend be = Backends.of(a.value());
        Tensor y = be.unary(UnaryOp.LOG, a.value());
        return Var.result("log", y, g -> a.accumulate(be.binary(DIV, g, a.value())), a);
    }

    public static Var tanh(Var a) {
        Backend be = Backends.of(a.value());
        Tensor y = be.unary(UnaryOp.TANH, a.value());
        return Var.result("tanh", y, g -> a.accumulate(be.binary(BinaryOp.TANH_GRAD, g, y)), a);
    }

    public static Var sigmoid(Var a) {
        Backend be = Backends.of(a.value());
        Tensor y = be.unary(UnaryOp.SIGMOID, a.value());
        return Var.result("sigmoid", y, g -> a.accumulate(be.binary(BinaryOp.SIGMOID_GRAD, g, y)), a);
    }

    /** {@code log(1 + exp(a))}, stable for large |a|. */
    public static Var softplus(Var a) {
        Backend be = Backends.of(a.value());
        Tensor y = be.unary(UnaryOp.SOFTPLUS, a.value());
        return Var.result("softplus", y, g -> a.accumulate(be.binary(MUL, g, be.unary(UnaryOp.SIGMOID, a.value()))), a);
    }

    /** {@code max(a, 0)} (NaN stays NaN); the gradient passes where {@code a > 0}. */
    public static Var relu(Var a) {
        Backend be = Backends.of(a.value());
        Tensor zeros = be.full(0f, a.shape());
        Tensor y = be.where(be.binary(BinaryOp.LESS, a.value(), 0f), zeros, a.value());
        Tensor positive = be.binary(BinaryOp.LESS, be.unary(UnaryOp.NEG, a.value()), 0f);
        return Var.result("relu", y, g -> a.accumulate(be.where(positive, g, zeros)), a);
    }

    /** {@code |a|}, exactly (a times its sign); the gradient is the sign, +1 at 0. */
    public static Var abs(Var a) {
        Backend be = Backends.of(a.value());
        Tensor sign = be.binary(ADD, be.binary(MUL, be.binary(BinaryOp.LESS, a.value(), 0f), -2f), 1f);
        Tensor y = be.binary(MUL, a.value(), sign);
        return Var.result("abs", y, g -> a.accumulate(be.binary(MUL, g, sign)), a);
    }

    public static Var sqrt(Var a) {
        Backend be = Backends.of(a.value());
        Tensor y = be.unary(UnaryOp.SQRT, a.value());
        return Var.result("sqrt", y, g -> a.accumulate(be.binary(MUL, be.binary(DIV, g, y), 0.5f)), a);
    }

    /**
     * {@code a^p}: for an integer {@code |p| <= 64} by repeated squaring (any sign of {@code a}; {@code 0^p} for
     * {@code p < 0} is infinite), otherwise {@code exp(p log a)} (NaN for {@code a < 0}, as {@link Math#pow}). The
     * gradient is {@code p a^(p - 1)}, computed the same way.
     */
    public static Var pow(Var a, float p) {
        Backend be = Backends.of(a.value());
        Tensor y = power(be, a.value(), p);
        if (p == 0) { // a constant: no gradient, not 0 times a^-1 (NaN at 0)
            return Var.result("pow", y, g -> a.accumulate(be.full(0f, a.shape())), a);
        }
        return Var.result("pow", y, g -> a.accumulate(be.binary(MUL, be.binary(MUL, g, power(be, a.value(), p - 1)), p)), a);
    }

    private static Tensor power(Backend be, Tensor a, float p) {
        if (p == Math.rint(p) && Math.abs(p) <= 64) {
            int n = (int) Math.abs(p);
            Tensor result = null, base = a;
            for (; n > 0; n >>= 1) {
                if ((n & 1) != 0) {
                    result = result == null ? base : be.binary(MUL, result, base);
                }
                if (n > 1) {
                    base = be.unary(UnaryOp.SQUARE, base);
                }
            }
            Tensor ones = be.full(1f, a.shape());
            return result == null ? ones : p < 0 ? be.binary(DIV, ones, result) : result;
        }
        Tensor y = be.unary(UnaryOp.EXP, be.binary(MUL, be.unary(UnaryOp.LOG, a), p));
        return be.where(be.binary(BinaryOp.LESS, a, 0f), be.full(Float.NaN, a.shape()), y);
    }

    /**
     * {@code log(1 + a)}, accurate for small {@code a}: {@code log(u) a / (u - 1)} with {@code u = 1 + a} (the
     * rounding of u cancels; Kahan's form), {@code a} itself where {@code u == 1} or a is infinite or NaN, NaN below -1.
     * Gradient {@code 1 / (1 + a)}.
     */
    public static Var log1p(Var a) {
        Backend be = Backends.of(a.value());
        Tensor u = be.binary(ADD, a.value(), 1f);
        Tensor ratio = be.binary(DIV, a.value(), be.binary(SUB, u, 1f));
        Tensor y = be.where(be.binary(BinaryOp.LESS, a.value(), -1f), be.full(Float.NaN, a.shape()),
                be.where(nearOne(be, ratio), be.binary(MUL, be.unary(UnaryOp.LOG, u), ratio), a.value()));
        return Var.result("log1p", y, g -> a.accumulate(be.binary(DIV, g, u)), a);
    }

    /**
     * {@code exp(a) - 1}, accurate for small {@code a}: {@code (u - 1) a / log u} with {@code u = exp(a)} (Kahan's
     * form), {@code a} where {@code u == 1} and {@code u - 1} where u overflows or underflows. Gradient {@code exp(a)}.
     */
    public static Var expm1(Var a) {
        Backend be = Backends.of(a.value());
        Tensor u = be.unary(UnaryOp.EXP, a.value());
        Tensor um1 = be.binary(SUB, u, 1f);
        Tensor ratio = be.binary(DIV, a.value(), be.unary(UnaryOp.LOG, u));
        Tensor far = be.where(be.binary(BinaryOp.LESS, be.unary(UnaryOp.SQUARE, a.value()), 1f), a.value(), um1);
        Tensor y = be.where(nearOne(be, ratio), be.binary(MUL, um1, ratio), far);
        return Var.result("expm1", y, g -> a.accumulate(be.binary(MUL, g, u)), a);
    }

    /** 1 where {@code |r - 1| < 1/2} (so not where r is infinite or NaN), 0 elsewhere. */
    private static Tensor nearOne(Backend be, Tensor r) {
        return be.binary(BinaryOp.LESS, be.unary(UnaryOp.SQUARE, be.binary(SUB, r, 1f)), 0.25f);
    }

    /** Below this, lgamma and digamma are shifted up by the recurrences {@code Gamma(x + 1) = x Gamma(x)}. */
    private static final float GAMMA_SHIFT = 4f;

    /**
     * {@code log Gamma(a)} for {@code a > 0} (NaN for {@code a <= 0}): Stirling's series to {@code z^-7} at
     * {@code z = a} for {@code a >= 4}, else at {@code z = a + 4} less {@code log(a (a+1) (a+2) (a+3))} (truncation
     * below 1e-8; float rounding a few ulp of {@code lgamma(z)}, so near its zeros at 1 and 2 the error is ~1e-6
     * absolute). Gradient: the digamma function, by the same shift and its asymptotic series.
     */
    public static Var lgamma(Var a) {
        Backend be = Backends.of(a.value());
        Tensor x = a.value();
        Tensor small = be.binary(BinaryOp.LESS, x, GAMMA_SHIFT);
        Tensor z = be.where(small, be.binary(ADD, x, GAMMA_SHIFT), x);
        Tensor r = be.binary(DIV, be.full(1f, x.shape()), z), r2 = be.unary(UnaryOp.SQUARE, r);
        // 1/(12 z) - 1/(360 z^3) + 1/(1260 z^5) - 1/(1680 z^7)
        Tensor series = be.binary(MUL, r, horner(be, r2, 1 / 12f, -1 / 360f, 1 / 1260f, -1 / 1680f));
        Tensor logZ = be.unary(UnaryOp.LOG, z);
        Tensor stirling = be.binary(ADD, be.binary(SUB, be.binary(MUL, be.binary(SUB, z, 0.5f), logZ), z),
                be.binary(ADD, series, (float) org.aiwae.engine.math.Gaussian.HALF_LOG_2PI));
        Tensor product = x;
        for (int k = 1; k < GAMMA_SHIFT; k++) {
            product = be.binary(MUL, product, be.binary(ADD, x, k));
        }
        Tensor shifted = be.binary(SUB, stirling, be.unary(UnaryOp.LOG, product));
        Tensor y = be.where(be.binary(BinaryOp.LESS, be.unary(UnaryOp.NEG, x), 0f), be.where(small, shifted, stirling),
                be.full(Float.NaN, x.shape()));
        return Var.result("lgamma", y, g -> a.accumulate(be.binary(MUL, g, digamma(be, x))), a);
    }

    /**
     * The digamma function {@code d/dx log Gamma(x)} for {@code x > 0}: {@code log z - 1/(2z) - 1/(12 z^2) + 1/(120 z^4)
     * - 1/(252 z^6) + 1/(240 z^8)} at {@code z = x} for {@code x >= 4}, else at {@code z = x + 4} less
     * {@code sum_k 1/(x + k)}, {@code k = 0..3}.
     */
    private static Tensor digamma(Backend be, Tensor x) {
        Tensor small = be.binary(BinaryOp.LESS, x, GAMMA_SHIFT);
        Tensor z = be.where(small, be.binary(ADD, x, GAMMA_SHIFT), x);
        Tensor ones = be.full(1f, x.shape());
        Tensor r = be.binary(DIV, ones, z), r2 = be.unary(UnaryOp.SQUARE, r);
        Tensor series = be.binary(MUL, r2, horner(be, r2, -1 / 12f, 1 / 120f, -1 / 252f, 1 / 240f));
        Tensor asymptotic = be.binary(ADD, be.binary(SUB, be.unary(UnaryOp.LOG, z), be.binary(MUL, r, 0.5f)), series);
        Tensor reciprocals = be.binary(DIV, ones, x);
        for (int k = 1; k < GAMMA_SHIFT; k++) {
            reciprocals = be.binary(ADD, reciprocals, be.binary(DIV, ones, be.binary(ADD, x, k)));
        }
        return be.where(small, be.binary(SUB, asymptotic, reciprocals), asymptotic);
    }

    /** {@code c0 + t (c1 + t (c2 + ...))}. */
    private static Tensor horner(Backend be, Tensor t, float... c) {
        Tensor acc = be.binary(MUL, t, c[c.length - 1]);
        for (int i = c.length - 2; i > 0; i--) {
            acc = be.binary(MUL, be.binary(ADD, acc, c[i]), t);
        }
        return be.binary(ADD, acc, c[0]);
    }

    // ---------------------------------------------------------------- reductions

    /** Sum over {@code axis}, which is removed. */
    public static Var sum(Var a, int axis) {
        Backend be = Backends.of(a.value());
        int ax = Shapes.axis("sum", axis, a.value().rank());
        Tensor y = be.reduce(ReduceOp.SUM, a.value(), ax);
        return Var.result("sum", y, g -> a.accumulate(be.expand(g, ax, a.shape())), a);
    }

    /** Sum of every element, as a scalar. */
    public static Var sum(Var a) {
        return sum(reshape(a, a.value().size()), 0);
    }

    public static Var mean(Var a, int axis) {
        int ax = Shapes.axis("mean", axis, a.value().rank());
        return mul(sum(a, ax), 1f / a.value().dim(ax));
    }

    public static Var mean(Var a) {
        return mul(sum(a), 1f / a.value().size());
    }

    /**
     * {@code scale sum a w} over every element of {@code a} (a constant {@code w} of a's shape, or null), as a scalar:
     * {@code mul(sum(mul(a, w)), scale)} as one node (a weighted loss; {@code -mean(a)} with {@code w = null} and
     * {@code scale = -1 / n}).
     */
    public static Var scaledSum(Var a, Tensor w, float scale) {
        Backend be = w == null ? Backends.of(a.value()) : Backends.of("scaledSum", a.value(), w);
        if (w != null && !w.sameShape(a.value())) {
            throw new IllegalArgumentException("scaledSum: weights of shape " + Shapes.str(w.shape()) + " for " + Shapes.str(a.shape()));
        }
        Tensor y = be.scaledSum(a.value(), w, scale);
        int[] shape = a.shape();
        return Var.result("scaledSum", y, g -> a.accumulate(be.scaledSumGrad(g, w, scale, shape)), a);
    }

    /** {@code log sum exp} over {@code axis} (removed), computed as {@code m + log sum exp(a - m)}. */
    public static Var logsumexp(Var a, int axis) {
        Backend be = Backends.of(a.value());
        int ax = Shapes.axis("logsumexp", axis, a.value().rank());
        Tensor y = be.logSumExp(a.value(), ax);
        return Var.result("logsumexp", y, g -> a.accumulate(be.logSumExpGrad(a.value(), y, g, ax)), a);
    }

    // ---------------------------------------------------------------- shapes

    /** A view with another shape; the gradient is reshaped back. */
    public static Var reshape(Var a, int... shape) {
        Tensor y = a.value().reshape(shape);
        int[] original = a.shape();
        return Var.result("reshape", y, g -> a.accumulate(g.reshape(original)), a);
    }

    /**
     * Elements {@code [from, to)} of the last axis: {@code [..., D]} to {@code [..., to - from]}, as {@link #gather}
     * of those indices (exact for finite values; a NaN or infinity elsewhere in a row spreads to the row's slice).
     */
    public static Var slice(Var a, int from, int to) {
        int[] shape = a.shape();
        int d = shape.length == 0 ? 0 : shape[shape.length - 1];
        if (shape.length == 0 || from < 0 || to > d || from >= to) {
            throw new IllegalArgumentException("slice: [" + from + ", " + to + ") of the last axis of " + Shapes.str(shape));
        }
        int[] indices = new int[to - from];
        for (int j = 0; j < indices.length; j++) {
            indices[j] = from + j;
        }
        return gather("slice", a, shape.length - 1, indices);
    }

    /**
     * Indices {@code indices} of {@code axis} in that order (repeats allowed): {@code a}'s shape with that axis of
     * length {@code indices.length}. Computed on every backend as the product of a's {@code [outer, d inner]} view
     * with a 0/1 selector {@code [d inner, n inner]} (exact for finite values; a NaN or infinity elsewhere in a row of
     * the view spreads to the row's result; memory {@code d n inner^2} floats, meant for parameter blocks, not for
     * large tensors); the backward is the product with its transpose, which adds each output's gradient to the place
     * it came from (a repeated index receives the sum).
     */
    public static Var gather(Var a, int axis, int... indices) {
        return gather("gather", a, Shapes.axis("gather", axis, a.value().rank()), indices);
    }

    private static Var gather(String name, Var a, int ax, int[] indices) {
        int[] shape = a.shape();
        int d = shape[ax], n = indices.length;
        for (int i : indices) {
            if (i < 0 || i >= d) {
                throw new IllegalArgumentException(name + ": index " + i + " of axis " + ax + " of " + Shapes.str(shape));
            }
        }
        if (n == 0) {
            throw new IllegalArgumentException(name + ": no indices of axis " + ax + " of " + Shapes.str(shape));
        }
        int[] targets = new int[n];
        for (int j = 0; j < n; j++) {
            targets[j] = j;
        }
        Backend be = Backends.of(a.value());
        Block block = new Block(shape, ax);
        Tensor select = selector(a.value(), block.inner(), d, n, indices, targets);
        Tensor y = be.empty(block.outer(), n * block.inner()); // written in full by the product
        be.matmul(a.value().reshape(block.outer(), d * block.inner()), false, select, false, y, false);
        int[] out = shape.clone();
        out[ax] = n;
        return Var.result(name, y.reshape(out), g -> {
            Tensor ga = be.empty(block.outer(), d * block.inner()); // written in full by the product
            be.matmul(g.reshape(block.outer(), n * block.inner()), false, select, true, ga, false);
            a.accumulate(ga.reshape(shape));
        }, a);
    }

    /**
     * The parts side by side along {@code axis} (their shapes equal elsewhere): each part's {@code [outer, d_p inner]}
     * view times a 0/1 selector that places it, the products accumulated into the result (exact for finite values);
     * the backward sends each part the product of the gradient with its selector's transpose.
     */
    public static Var concat(int axis, Var... parts) {
        if (parts.length == 0) {
            throw new IllegalArgumentException("concat: no parts");
        }
        int[] first = parts[0].shape();
        int ax = Shapes.axis("concat", axis, first.length);
        int total = 0;
        for (Var p : parts) {
            int[] s = p.shape();
            boolean same = s.length == first.length;
            for (int i = 0; same && i < s.length; i++) {
                same = i == ax || s[i] == first[i];
            }
            if (!same) {
                throw new IllegalArgumentException("concat: parts of shapes " + Shapes.str(first) + " and " + Shapes.str(s)
                        + " differ outside axis " + ax);
            }
            Backends.of("concat", parts[0].value(), p.value());
            total += s[ax];
        }
        Backend be = Backends.of(parts[0].value());
        Block block = new Block(first, ax);
        int rows = block.outer(), inner = block.inner(), width = total * inner;
        Tensor[] selects = new Tensor[parts.length];
        Tensor y = be.empty(rows, width); // written in full by the first product
        for (int p = 0, offset = 0; p < parts.length; p++) {
            int d = parts[p].value().dim(ax);
            int[] sources = new int[d], targets = new int[d];
            for (int i = 0; i < d; i++) {
                sources[i] = i;
                targets[i] = offset + i;
            }
            selects[p] = selector(parts[p].value(), inner, d, total, sources, targets);
            be.matmul(parts[p].value().reshape(rows, d * inner), false, selects[p], false, y, p > 0);
            offset += d;
        }
        int[] out = first.clone();
        out[ax] = total;
        return Var.result("concat", y.reshape(out), g -> {
            Tensor g2 = g.reshape(rows, width);
            for (int p = 0; p < parts.length; p++) {
                if (parts[p].requiresGrad()) {
                    int[] s = parts[p].shape();
                    Tensor gp = be.empty(rows, s[ax] * inner); // written in full by the product
                    be.matmul(g2, false, selects[p], true, gp, false);
                    parts[p].accumulate(gp.reshape(s));
                }
            }
        }, parts);
    }

    /** A shape seen as {@code [outer, axis, inner]} around one axis. */
    private record Block(int outer, int inner) {
        Block(int[] shape, int axis) {
            this(Shapes.size(java.util.Arrays.copyOfRange(shape, 0, axis)), Shapes.size(java.util.Arrays.copyOfRange(shape, axis + 1, shape.length)));
        }
    }

    /**
     * The 0/1 matrix {@code [d inner, n inner]} that sends index {@code sources[k]} of an axis of length {@code d} to
     * index {@code targets[k]} of one of length {@code n}, each of the {@code inner} elements after the axis to
     * itself; on {@code like}'s placement.
     */
    private static Tensor selector(Tensor like, int inner, int d, int n, int[] sources, int[] targets) {
        Tensor s = Tensor.zeros(d * inner, n * inner);
        for (int k = 0; k < sources.length; k++) {
            for (int t = 0; t < inner; t++) {
                s.set(1f, sources[k] * inner + t, targets[k] * inner + t);
            }
        }
        return s.to(like.placement());
    }

    // ---------------------------------------------------------------- linear algebra

    /** {@code op(a) @ op(b)} for 2-d operands, {@code op} transposing where the flag is set. */
    public static Var matmul(Var a, boolean transA, Var b, boolean transB) {
        Backend be = Backends.of("matmul", a.value(), b.value());
        int m = transA ? a.value().dim(1) : a.value().dim(0);
        int n = transB ? b.value().dim(0) : b.value().dim(1);
        Tensor y = be.empty(m, n); // written in full by the product
        be.matmul(a.value(), transA, b.value(), transB, y, false);
        return Var.result("matmul", y, g -> {
            if (a.requiresGrad()) {
                Tensor ga = be.empty(a.shape()); // written in full by the product
                if (!transA) {
                    be.matmul(g, false, b.value(), !transB, ga, false);      // dA = g op(B)^T
                } else {
                    be.matmul(b.value(), transB, g, true, ga, false);        // dA = op(B) g^T
                }
                a.accumulate(ga);
            }
            if (b.requiresGrad()) {
                Tensor gb = be.empty(b.shape()); // written in full by the product
                if (!transB) {
                    be.matmul(a.value(), !transA, g, false, gb, false);      // dB = op(A)^T g
                } else {
                    be.matmul(g, true, a.value(), transA, gb, false);        // dB = g^T op(A)
                }
                b.accumulate(gb);
            }
        }, a, b);
    }

    public static Var matmul(Var a, Var b) {
        return matmul(a, false, b, false);
    }

    /**
     * {@code x W^T + b} over the last dimension of {@code x} (leading dimensions are batch), with
     * {@code W} of shape {@code [out, in]} as in PyTorch; {@code b} may be null.
     */
    public static Var linear(Var x, Var w, Var b) {
        int[] xs = x.shape();
        int in = w.value().dim(1);
        int out = w.value().dim(0);
        if (xs.length == 0 || xs[xs.length - 1] != in || (b != null && (b.value().rank() != 1 || b.value().dim(0) != out))) {
            throw new IllegalArgumentException("linear: input " + Shapes.str(xs) + ", weight " + Shapes.str(w.shape())
                    + (b == null ? "" : ", bias " + Shapes.str(b.shape())));
        }
        if (b != null) {
            return tanhMlp(x, List.of(w), List.of(b), false);
        }
        Backend be = Backends.of("linear", x.value(), w.value());
        Tensor x2 = x.value().reshape(-1, in);
        int rows = x2.dim(0);
        Tensor y = be.empty(rows, out); // written in full by the product
        be.matmul(x2, false, w.value(), true, y, false);
        int[] ys = xs.clone();
        ys[ys.length - 1] = out;
        return Var.result("linear", y.reshape(ys), g -> {
            Tensor g2 = g.reshape(rows, out);
            if (x.requiresGrad()) {
                Tensor gx = be.empty(rows, in); // written in full by the product
                be.matmul(g2, false, w.value(), false, gx, false);
                x.accumulate(gx);
            }
            if (w.requiresGrad()) {
                Tensor gw = be.empty(out, in); // written in full by the product
                be.matmul(g2, true, x2, false, gw, false);
                w.accumulate(gw);
            }
        }, x, w);
    }

    /**
     * Dense layers {@code h_i = tanh(h_{i-1} W_i^T + b_i)} from {@code h_0 = x} over its last dimension, the last layer
     * without the tanh unless {@code lastTanh}: a multilayer perceptron as one node, whose forward is one
     * {@link Backend#dense} per layer and whose backward takes each tanh's derivative together with the product that
     * carries the gradient to it ({@link Backend#denseBackTanh}). The same values as composing {@link #linear} and
     * {@link #tanh}.
     */
    public static Var tanhMlp(Var x, List<Var> weights, List<Var> biases, boolean lastTanh) {
        int layers = weights.size();
        if (layers == 0 || biases.size() != layers) {
            throw new IllegalArgumentException("tanhMlp: " + layers + " weights and " + biases.size() + " biases");
        }
        int[] xs = x.shape();
        Backend be = Backends.of("tanhMlp", x.value(), weights.get(0).value());
        Tensor[] h = new Tensor[layers + 1];
        int in0 = weights.get(0).value().dim(1);
        h[0] = x.value().reshape(-1, in0);
        int rows = h[0].dim(0);
        for (int i = 0; i < layers; i++) {
            Tensor w = weights.get(i).value(), b = biases.get(i).value();
            if (w.rank() != 2 || w.dim(1) != h[i].dim(1) || b.rank() != 1 || b.dim(0) != w.dim(0)) {
                throw new IllegalArgumentException("linear: input " + Shapes.str(h[i].shape()) + ", weight " + Shapes.str(w.shape())
                        + ", bias " + Shapes.str(b.shape()));
            }
            Backends.of("tanhMlp", w, b);
            h[i + 1] = be.dense(h[i], w, b, i < layers - 1 || lastTanh);
        }
        int out = h[layers].dim(1);
        int[] ys = xs.clone();
        ys[ys.length - 1] = out;
        Var[] parents = new Var[1 + 2 * layers];
        parents[0] = x;
        for (int i = 0; i < layers; i++) {
            parents[1 + 2 * i] = weights.get(i);
            parents[2 + 2 * i] = biases.get(i);
        }
        return Var.result(layers == 1 && !lastTanh ? "linear" : "tanhMlp", h[layers].reshape(ys), g -> {
            Tensor gpre = g.reshape(rows, out);
            if (lastTanh) { // through the last tanh, as Ops.tanh's node would
                gpre = be.binary(BinaryOp.TANH_GRAD, gpre, h[layers]);
            }
            for (int i = layers - 1; i >= 0; i--) {
                Var w = weights.get(i), b = biases.get(i);
                int o = w.value().dim(0), n = w.value().dim(1);
                if (w.requiresGrad()) {
                    Tensor gw = be.empty(o, n); // written in full by the product
                    be.matmul(gpre, true, h[i], false, gw, false);
                    w.accumulate(gw);
                }
                if (b.requiresGrad()) {
                    b.accumulate(be.sumTo(gpre, new int[] {o}));
                }
                if (i > 0) {
                    gpre = be.denseBackTanh(gpre, w.value(), h[i]);
                } else if (x.requiresGrad()) {
                    Tensor gx = be.empty(rows, n); // written in full by the product
                    be.matmul(gpre, false, w.value(), false, gx, false);
                    x.accumulate(gx);
                }
            }
        }, parents);
    }

    // ---------------------------------------------------------------- log-densities (summed over the last axis)

    /**
     * Bernoulli log-likelihood from logits, {@code sum_i x_i l_i - softplus(l_i)} over the last
     * axis; {@code x} broadcasts against {@code logits} (for example [B, D] against [K, B, D]).
     */
    public static Var bernoulliLogProb(Var logits, Var x) {
        Backend be = Backends.of("bernoulliLogProb", logits.value(), x.value());
        Tensor l = logits.value();
        Tensor y = be.bernoulliLogLikelihood(l, x.value());
        int[] keep = Shapes.insertOne(y.shape(), y.rank());
        return Var.result("bernoulliLogProb", y, g -> {
            Tensor gk = g.reshape(keep);
            if (logits.requiresGrad()) { // d/dl = x - sigmoid(l)
                logits.accumulate(unbroadcast(be, be.bernoulliScore(l, x.value(), gk), logits));
            }
            if (x.requiresGrad()) { // d/dx = l
                x.accumulate(unbroadcast(be, be.binary(MUL, l, gk), x));
            }
        }, logits, x);
    }

    /**
     * Diagonal Gaussian log-density {@code sum_i log N(z_i; mu_i, exp(logSigma_i)^2)} over the
     * last axis; the three operands broadcast.
     */
    public static Var gaussianLogProb(Var z, Var mu, Var logSigma) {
        Backend be = of3("gaussianLogProb", z, mu, logSigma);
        Backend.GaussianLog value = be.gaussianLogDensity(z.value(), mu.value(), logSigma.value());
        Tensor y = value.logDensity();
        int[] keep = Shapes.insertOne(y.shape(), y.rank());
        return Var.result("gaussianLogProb", y, g -> {
            Backend.GaussianLogGradient d = be.gaussianLogGrad(value, g.reshape(keep), z.requiresGrad() ? z.shape() : null,
                    mu.requiresGrad() ? mu.shape() : null, logSigma.requiresGrad() ? logSigma.shape() : null);
            if (d.z() != null) {
                z.accumulate(d.z());
            }
            if (d.mu() != null) {
                mu.accumulate(d.mu());
            }
            if (d.logSigma() != null) {
                logSigma.accumulate(d.logSigma());
            }
        }, z, mu, logSigma);
    }

    /**
     * Reparameterised draws {@code mu + exp(logSigma) eps} of a diagonal Gaussian for standard normal noise {@code eps}
     * (a constant; {@code mu} and {@code logSigma} broadcast over it): {@code add(mu, mul(exp(logSigma), eps))} as one node.
     */
    public static Var reparameterize(Var mu, Var logSigma, Tensor eps) {
        Backend be = Backends.of("reparameterize", mu.value(), logSigma.value());
        Backends.of("reparameterize", mu.value(), eps);
        Backend.Reparameterized r = be.reparameterize(mu.value(), logSigma.value(), eps);
        return Var.result("reparameterize", r.z(), g -> {
            Backend.ReparameterizedGradient d = be.reparameterizeGrad(g, eps, r.sigma(), mu.shape());
            mu.accumulate(d.mu());
            logSigma.accumulate(d.logSigma());
        }, mu, logSigma);
    }

    /**
     * {@code KL(N(mu, diag(exp(logSigma)^2)) || N(0, I))} in closed form, summed over the last axis:
     * {@code sum_i (mu_i^2 + sigma_i^2 - 1) / 2 - logSigma_i}. Gradients: {@code mu} and
     * {@code sigma^2 - 1}.
     */
    public static Var gaussianKlToStandardNormal(Var mu, Var logSigma) {
        Backend be = Backends.of("gaussianKlToStandardNormal", mu.value(), logSigma.value());
        Backend.Kl kl = be.gaussianKl(mu.value(), logSigma.value());
        Tensor y = kl.kl();
        int[] keep = Shapes.insertOne(y.shape(), y.rank());
        return Var.result("gaussianKlToStandardNormal", y, g -> {
            Backend.KlGradient d = be.gaussianKlGrad(mu.value(), kl.variance(), g.reshape(keep));
            if (mu.requiresGrad()) {
                mu.accumulate(unbroadcast(be, d.mu(), mu));
            }
            if (logSigma.requiresGrad()) {
                logSigma.accumulate(unbroadcast(be, d.logSigma(), logSigma));
            }
        }, mu, logSigma);
    }

    /** Standard normal log-density {@code sum_i log N(z_i; 0, 1)} over the last axis. */
    public static Var standardNormalLogProb(Var z) {
        Backend be = Backends.of(z.value());
        Tensor y = be.standardNormalLogDensity(z.value());
        int[] keep = Shapes.insertOne(y.shape(), y.rank());
        return Var.result("standardNormalLogProb", y,
                g -> z.accumulate(be.unary(UnaryOp.NEG, be.binary(MUL, z.value(), g.reshape(keep)))), z);
    }
}
