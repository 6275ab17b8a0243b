package org.aiwae.kernels;

import java.util.Arrays;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;

/**
 * The fused forms of a {@link DeviceBackend} for the models and objectives (one launch each): the dense layer and its
 * tanh gradient as sgemm epilogues, the Gaussian and Bernoulli log densities and their gradients, the
 * reparameterization, the Gaussian KL, a Gaussian's terms for the AIS target, logsumexp, the scaled sum and the
 * expansion along an axis. Each checks its
 * operands and launches one kernel of {@code aiwae_body.h}; where the operands are not the pattern's, it takes
 * {@link Backend}'s composition. {@link FusedStepForms} has the sampler's and the optimizer's;
 * {@link DeviceBackend} the memory, the recording and the primitives these launch on.
 */
abstract sealed class FusedModelForms implements Backend permits FusedStepForms {
    /** The launches of the device's kernels. */
    public abstract Kernels kernels();

    /** The device buffer of a tensor on this backend. */
    abstract Device.Buffer buffer(Tensor t);

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
        kernels().sgemm(m, n, k, new Kernels.Matrix(buffer(g), g.offset(), k, false), new Kernels.Matrix(buffer(w), w.offset(), n, false),
                new Kernels.Matrix(buffer(y), 0, n, false), false, Kernels.Epilogue.TANH_GRAD, null, buffer(h));
        return y;
    }

    /** Whether {@code x}'s shape ends {@code l}'s (x broadcasts over l's leading dimensions), with a last dimension of at least 1. */
    private static boolean trailing(Tensor x, Tensor l) {
        int[] xs = x.shape();
        return xs.length != 0 && xs[xs.length - 1] != 0 && Shapes.isSuffix(xs, l.shape());
    }

    /** One launch (gaussian_log_rows) where mu and logSigma have one shape that ends z's; else the composition. */
    @Override
    public GaussianLog gaussianLogDensity(Tensor z, Tensor mu, Tensor logSigma) {
        if (!mu.sameShape(logSigma) || !trailing(mu, z)) {
            return Backend.super.gaussianLogDensity(z, mu, logSigma);
        }
        int d = z.dim(-1);
        Tensor y = empty(Shapes.drop(z.shape(), z.rank() - 1)), u = empty(z.shape()), inv = empty(mu.shape());
        kernels().gaussianLog(z.size() / d, d, mu.size() / d, buffer(z), z.offset(), buffer(mu), mu.offset(), buffer(logSigma),
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
        kernels().gaussianLogGrad(u.size() / inv.size(), batch, d, buffer(u), buffer(inv), buffer(g), g.offset(), gz == null ? null : buffer(gz),
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
        kernels().reparameterize(eps.size(), mu.size(), buffer(mu), mu.offset(), buffer(logSigma), logSigma.offset(), buffer(eps), eps.offset(),
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
        kernels().reparameterizeGrad(g.size() / sigma.size(), sigma.size(), buffer(g), g.offset(), buffer(eps), eps.offset(), buffer(sigma),
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
        kernels().gaussianKl(mu.size() / d, d, buffer(mu), mu.offset(), buffer(logSigma), logSigma.offset(), buffer(kl), buffer(var));
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
        kernels().gaussianKlGrad(mu.size(), d, buffer(mu), mu.offset(), buffer(variance), variance.offset(), buffer(g), g.offset(),
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
        kernels().gaussianTerms(logSigma.dim(0), logSigma.dim(1), buffer(logSigma), logSigma.offset(), offset, buffer(a), buffer(s),
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
        kernels().scaledSum(a.size(), buffer(a), a.offset(), w == null ? null : buffer(w), w == null ? 0 : w.offset(), scale, buffer(y));
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
        kernels().scaledSumGrad(n, buffer(g), g.offset(), scale, w == null ? null : buffer(w), w == null ? 0 : w.offset(), buffer(y));
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
        kernels().expand(k.outer(), k.n(), k.inner(), buffer(g), g.offset(), buffer(y));
        return y;
    }

    /** One launch (logsumexp_axis): one work-item per output. */
    @Override
    public Tensor logSumExp(Tensor a, int axis) {
        int[] shape = a.shape();
        Shapes.Block k = Shapes.reduction("logsumexp", shape, axis);
        Tensor y = empty(Shapes.drop(shape, k.axis()));
        kernels().logSumExp(k.outer(), k.n(), k.inner(), buffer(a), a.offset(), buffer(y));
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
        kernels().logSumExpGrad(k.outer(), k.n(), k.inner(), buffer(a), a.offset(), buffer(y), y.offset(), buffer(g),
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
        kernels().bernoulliRows(l.size() / d, d, x.size() / d, 0, buffer(l), buffer(x), null, null, buffer(y), false);
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
        kernels().bernoulliScore(l.size(), d, x.size() / d, buffer(l), l.offset(), buffer(x), x.offset(), buffer(g), g.offset(), buffer(y));
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
        kernels().bernoulliRows(d == 0 ? y.size() : z.size() / d, 0, 1, d, null, null, buffer(z), null, buffer(y), false);
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
        kernels().sgemm(m, n, k, new Kernels.Matrix(buffer(x), x.offset(), k, false), new Kernels.Matrix(buffer(w), w.offset(), k, true),
                new Kernels.Matrix(buffer(y), 0, n, false), false, tanh ? Kernels.Epilogue.BIAS_TANH : Kernels.Epilogue.BIAS,
                at(b), null);
        return y;
    }

    /** The buffer of a tensor the kernels write from its offset, which must be 0 (they take no output offsets). */
    final Device.Buffer at(Tensor t) {
        if (t.offset() != 0) {
            throw new IllegalArgumentException("an output tensor at offset " + t.offset() + "; the fused kernels write from offset 0");
        }
        return buffer(t);
    }
}
