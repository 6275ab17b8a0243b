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
     * Elements {@code [from, to)} of the last axis: {@code [..., D]} to {@code [..., to - from]}. Computed on
     * every backend as a product with a 0/1 selector {@code [D, to - from]} (exact for finite values; a NaN or
     * infinity elsewhere in a row spreads to the row's slice); the backward is the product with its transpose,
     * which puts the gradient back in the sliced places and zeros elsewhere.
     */
    public static Var slice(Var a, int from, int to) {
        int[] shape = a.shape();
        int d = shape.length == 0 ? 0 : shape[shape.length - 1];
        if (shape.length == 0 || from < 0 || to > d || from >= to) {
            throw new IllegalArgumentException("slice: [" + from + ", " + to + ") of the last axis of " + Shapes.str(shape));
        }
        Backend be = Backends.of(a.value());
        int width = to - from, rows = a.value().size() / d;
        Tensor selector = Tensor.zeros(d, width);
        for (int j = 0; j < width; j++) {
            selector.set(1f, from + j, j);
        }
        Tensor select = selector.to(a.value().placement());
        Tensor y = be.empty(rows, width); // written in full by the product
        be.matmul(a.value().reshape(rows, d), false, select, false, y, false);
        int[] out = shape.clone();
        out[out.length - 1] = width;
        return Var.result("slice", y.reshape(out), g -> {
            Tensor ga = be.empty(rows, d); // written in full by the product
            be.matmul(g.reshape(rows, width), false, select, true, ga, false);
            a.accumulate(ga.reshape(shape));
        }, a);
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
