package org.aiwae.engine.backend;

import java.util.List;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.engine.math.Gaussian;

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

    /** Normal and uniform draws. */
    record Draws(Tensor normals, Tensor uniforms) {}

    /**
     * {@link #philox(Tensor, long, boolean, int...)} normals of {@code normalShape} from block {@code position}, then uniforms of
     * {@code uniformShape} from the block after them: an HMC transition's momenta and Metropolis uniforms. Devices only.
     */
    default Draws philoxNormalsThenUniforms(Tensor key, long position, int[] normalShape, int[] uniformShape) {
        Tensor normals = philox(key, position, true, normalShape);
        return new Draws(normals, philox(key, position + (normals.size() + 3) / 4, false, uniformShape));
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

    /**
     * A dense layer over rows: {@code y = x w^T + b} for {@code x [N, in]}, {@code w [out, in]} and {@code b [out]},
     * then {@code tanh(y)} when {@code tanh} (a hidden layer); {@code [N, out]}.
     */
    default Tensor dense(Tensor x, Tensor w, Tensor b, boolean tanh) {
        Tensor y = empty(x.dim(0), w.dim(0)); // written in full by the product
        matmul(x, false, w, true, y, false);
        Tensor biased = binary(BinaryOp.ADD, y, b);
        return tanh ? unary(UnaryOp.TANH, biased) : biased;
    }

    /**
     * The gradient that reaches a hidden layer's pre-activation from the layer above: {@code (g w) (1 - h^2)} for the
     * upstream gradient {@code g [N, out]}, that layer's weights {@code w [out, in]} and the hidden layer's tanh output
     * {@code h [N, in]}.
     */
    default Tensor denseBackTanh(Tensor g, Tensor w, Tensor h) {
        Tensor gh = empty(h.shape()); // written in full by the product
        matmul(g, false, w, false, gh, false);
        return binary(BinaryOp.TANH_GRAD, gh, h);
    }

    /**
     * The Bernoulli log-likelihood of {@code x} under logits {@code l}, {@code sum x l - softplus(l)} over the last axis, where
     * {@code x} broadcasts against {@code l} ({@code [B, D]} against {@code [K, B, D]}).
     */
    default Tensor bernoulliLogLikelihood(Tensor l, Tensor x) {
        return reduce(ReduceOp.SUM, binary(BinaryOp.SUB, binary(BinaryOp.MUL, x, l), unary(UnaryOp.SOFTPLUS, l)), -1);
    }

    /**
     * The gradient of {@link #bernoulliLogLikelihood} in the logits times an upstream gradient {@code g} with one value per
     * row ({@code l}'s shape with the last dimension 1): {@code (x - sigmoid(l)) g}.
     */
    default Tensor bernoulliScore(Tensor l, Tensor x, Tensor g) {
        return binary(BinaryOp.MUL, binary(BinaryOp.SUB, x, unary(UnaryOp.SIGMOID, l)), g);
    }

    /** The standard normal log-density of each row of {@code z} (over its last axis): {@code -|z|^2 / 2 - Z log(2 pi) / 2}. */
    default Tensor standardNormalLogDensity(Tensor z) {
        Tensor sq = reduce(ReduceOp.SUM, unary(UnaryOp.SQUARE, z), -1);
        return binary(BinaryOp.SUB, binary(BinaryOp.MUL, sq, -0.5f), Gaussian.logNormalizer(z.dim(-1)));
    }

    /** {@code log sum exp} over {@code axis} (removed), computed as {@code m + log sum exp(a - m)} with m the maximum. */
    default Tensor logSumExp(Tensor a, int axis) {
        int ax = Shapes.axis("logsumexp", axis, a.rank());
        int[] keep = Shapes.insertOne(Shapes.drop(a.shape(), ax), ax);
        Tensor max = reduce(ReduceOp.MAX, a, ax).reshape(keep);
        Tensor shifted = unary(UnaryOp.EXP, binary(BinaryOp.SUB, a, max));
        return binary(BinaryOp.ADD, unary(UnaryOp.LOG, reduce(ReduceOp.SUM, shifted, ax)).reshape(keep), max)
                .reshape(Shapes.drop(a.shape(), ax));
    }

    /**
     * The gradient of {@link #logSumExp} over {@code axis} times an upstream gradient: {@code exp(a - y) g} with {@code y} the
     * log-sum-exp and {@code g} of y's shape, both broadcast along {@code axis}.
     */
    default Tensor logSumExpGrad(Tensor a, Tensor y, Tensor g, int axis) {
        int ax = Shapes.axis("logsumexp", axis, a.rank());
        int[] keep = Shapes.insertOne(y.shape(), ax);
        Tensor softmax = unary(UnaryOp.EXP, binary(BinaryOp.SUB, a, y.reshape(keep)));
        return binary(BinaryOp.MUL, softmax, g.reshape(keep));
    }

    /** {@link #gaussianLogDensity}'s value and what its gradient needs: {@code u = (z - mu) / sigma} and {@code 1 / sigma}. */
    record GaussianLog(Tensor logDensity, Tensor u, Tensor invSigma) {}

    /**
     * The diagonal Gaussian log-density {@code sum log N(z; mu, exp(logSigma)^2)} over the last axis (the three operands
     * broadcast): {@code -u^2 / 2 - logSigma} summed, less {@code Z log(2 pi) / 2}, with {@code u = (z - mu) / sigma}.
     */
    default GaussianLog gaussianLogDensity(Tensor z, Tensor mu, Tensor logSigma) {
        Tensor invSigma = unary(UnaryOp.EXP, unary(UnaryOp.NEG, logSigma));
        Tensor u = binary(BinaryOp.MUL, binary(BinaryOp.SUB, z, mu), invSigma); // (z - mu) / sigma
        Tensor terms = binary(BinaryOp.SUB, binary(BinaryOp.MUL, unary(UnaryOp.SQUARE, u), -0.5f), logSigma);
        Tensor sum = reduce(ReduceOp.SUM, terms, -1);
        return new GaussianLog(binary(BinaryOp.SUB, sum, Gaussian.logNormalizer(u.dim(-1))), u, invSigma);
    }

    /** {@link #gaussianLogDensity}'s gradients in z, mu and logSigma, each summed to its operand's shape (null where not asked for). */
    record GaussianLogGradient(Tensor z, Tensor mu, Tensor logSigma) {}

    /**
     * {@link #gaussianLogDensity}'s gradients times an upstream gradient {@code g} with one value per row ({@code [..., 1]}):
     * {@code -u / sigma g} in z, {@code u / sigma g} in mu, {@code (u^2 - 1) g} in logSigma, each summed over the dimensions
     * its operand broadcast along ({@code zShape}, {@code muShape}, {@code logSigmaShape}; a null shape: not wanted).
     */
    default GaussianLogGradient gaussianLogGrad(GaussianLog value, Tensor g, int[] zShape, int[] muShape, int[] logSigmaShape) {
        Tensor u = value.u();
        Tensor dz = binary(BinaryOp.MUL, binary(BinaryOp.MUL, u, value.invSigma()), g); // d/dz = -(z-mu)/sigma^2, negated below
        Tensor z = zShape == null ? null : summedTo(unary(UnaryOp.NEG, dz), zShape);
        Tensor mu = muShape == null ? null : summedTo(dz, muShape);
        Tensor logSigma = logSigmaShape == null ? null
                : summedTo(binary(BinaryOp.MUL, binary(BinaryOp.SUB, unary(UnaryOp.SQUARE, u), 1f), g), logSigmaShape);
        return new GaussianLogGradient(z, mu, logSigma);
    }

    /** {@code g}, or {@link #sumTo}{@code (g, shape)} where its shape is not {@code shape}: the gradient of a broadcast operand. */
    default Tensor summedTo(Tensor g, int[] shape) {
        return java.util.Arrays.equals(g.shape(), shape) ? g : sumTo(g, shape);
    }

    /** {@link #reparameterize}'s draws and the standard deviations {@code sigma} its gradient needs. */
    record Reparameterized(Tensor z, Tensor sigma) {}

    /** Reparameterised draws of a diagonal Gaussian, {@code z = mu + exp(logSigma) eps} ({@code mu}, {@code logSigma} broadcast over eps). */
    default Reparameterized reparameterize(Tensor mu, Tensor logSigma, Tensor eps) {
        Tensor sigma = unary(UnaryOp.EXP, logSigma);
        return new Reparameterized(binary(BinaryOp.ADD, mu, binary(BinaryOp.MUL, sigma, eps)), sigma);
    }

    /** {@link #reparameterize}'s gradients in mu and in logSigma. */
    record ReparameterizedGradient(Tensor mu, Tensor logSigma) {}

    /**
     * {@link #reparameterize}'s gradients for the upstream gradient {@code g} (z's shape): {@code g} summed to mu's shape, and
     * {@code (g eps} summed to sigma's shape{@code ) sigma}.
     */
    default ReparameterizedGradient reparameterizeGrad(Tensor g, Tensor eps, Tensor sigma, int[] muShape) {
        Tensor product = binary(BinaryOp.MUL, summedTo(g, Shapes.broadcast("mul", sigma.shape(), eps.shape())), eps);
        return new ReparameterizedGradient(summedTo(g, muShape), binary(BinaryOp.MUL, summedTo(product, sigma.shape()), sigma));
    }

    /** {@link #gaussianKl}'s value per row and the variances {@code sigma^2} its gradient needs. */
    record Kl(Tensor kl, Tensor variance) {}

    /**
     * {@code KL(N(mu, diag(exp(logSigma)^2)) || N(0, I))} in closed form, summed over the last axis:
     * {@code sum (mu^2 + sigma^2 - 1) / 2 - logSigma}, with {@code sigma^2} ({@code mu} and {@code logSigma} broadcast).
     */
    default Kl gaussianKl(Tensor mu, Tensor logSigma) {
        Tensor var = unary(UnaryOp.EXP, binary(BinaryOp.MUL, logSigma, 2f));
        Tensor half = binary(BinaryOp.MUL, binary(BinaryOp.SUB, binary(BinaryOp.ADD, unary(UnaryOp.SQUARE, mu), var), 1f), 0.5f);
        return new Kl(reduce(ReduceOp.SUM, binary(BinaryOp.SUB, half, logSigma), -1), var);
    }

    /** {@link #gaussianKl}'s gradients times an upstream gradient {@code g} with one value per row: in mu and in logSigma. */
    record KlGradient(Tensor mu, Tensor logSigma) {}

    /** {@code mu g} and {@code (sigma^2 - 1) g}, {@code g} broadcast along the last axis ({@code [..., 1]}). */
    default KlGradient gaussianKlGrad(Tensor mu, Tensor variance, Tensor g) {
        return new KlGradient(binary(BinaryOp.MUL, mu, g), binary(BinaryOp.MUL, binary(BinaryOp.SUB, variance, 1f), g));
    }

    /**
     * {@code scale sum_i a_i w_i} over every element ({@code w} of a's shape, or null for {@code scale sum_i a_i}), as a
     * tensor of shape {@code []}: a weighted loss, or a mean with {@code scale = 1 / n}.
     */
    default Tensor scaledSum(Tensor a, Tensor w, float scale) {
        Tensor product = w == null ? a : binary(BinaryOp.MUL, a, w);
        return binary(BinaryOp.MUL, reduce(ReduceOp.SUM, product.reshape(product.size()), 0), scale);
    }

    /** {@link #scaledSum}'s gradient in a for the upstream gradient {@code g} (shape {@code []}): {@code (g scale) w}, a's shape. */
    default Tensor scaledSumGrad(Tensor g, Tensor w, float scale, int[] shape) {
        Tensor each = expand(binary(BinaryOp.MUL, g, scale), 0, new int[] {Shapes.size(shape)}).reshape(shape);
        return w == null ? each : binary(BinaryOp.MUL, each, w);
    }

    /** {@code g} repeated along a new {@code axis} to {@code shape} ({@code g}'s shape is {@code shape} without {@code axis}): a sum's gradient. */
    default Tensor expand(Tensor g, int axis, int[] shape) {
        return binary(BinaryOp.ADD, zeros(shape), g.reshape(Shapes.insertOne(g.shape(), axis)));
    }

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

    /** What {@link #diagonalGaussian} takes besides mu: {@code a = 1 / sigma}, {@code s = -1 / sigma} and a constant per row. */
    record GaussianTerms(Tensor a, Tensor s, Tensor constant) {}

    /**
     * A diagonal Gaussian's terms from {@code logSigma [B, Z]}: {@code a = exp(-logSigma)}, {@code s = -a} and
     * {@code constant [B] = -sum_z logSigma - offset} (offset: {@code Z log(2 pi) / 2} for a normalised density).
     */
    default GaussianTerms gaussianTerms(Tensor logSigma, float offset) {
        Tensor a = unary(UnaryOp.EXP, unary(UnaryOp.NEG, logSigma));
        Tensor constant = binary(BinaryOp.SUB, unary(UnaryOp.NEG, reduce(ReduceOp.SUM, logSigma, 1)), offset);
        return new GaussianTerms(a, unary(UnaryOp.NEG, a), constant);
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

    /**
     * A diagonal Gaussian's score in the form {@link #scaledDifference} takes: {@code d log q / dz = ((z - mu) a) s} with
     * {@code mu}, {@code a = 1 / sigma} and {@code s = -1 / sigma} of one shape {@code [B, Z]}, broadcast over the chains.
     */
    record GaussianScore(Tensor mu, Tensor a, Tensor s) {}

    /**
     * {@link #kickDrift} on a tempered potential: the gradient is {@code b0 g0 + b1 g1} ({@link #mix}), where the base's
     * gradient {@code g0} is given or, when {@code g0} is null, is the score {@code q0} at {@code z} (which must then be
     * given: the kick's gradient is at the position it drifts from).
     */
    default Leapfrog temperedKickDrift(Tensor p, Tensor eps, float scale, Tensor g0, GaussianScore q0, float b0, Tensor g1, float b1,
                                       Tensor z) {
        Tensor base = g0;
        if (base == null) {
            int[] chains = {z.size() / q0.mu().size(), q0.mu().dim(0), q0.mu().dim(1)};
            base = scaledDifference(z.reshape(chains), q0.mu(), q0.a(), q0.s()).reshape(z.shape());
        }
        return kickDrift(p, eps, scale, mix(base, b0, g1, b1), z);
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

    /**
     * {@link #metropolis} on a tempered potential: {@code log f = b0 l0 + b1 l1} ({@link #mix}) at the start
     * ({@code l00}, {@code l01}) and at the proposal ({@code l10}, {@code l11}).
     */
    default Metropolis temperedMetropolis(Tensor l00, Tensor l01, Tensor p0, Tensor l10, Tensor l11, Tensor p1, float b0, float b1,
                                          Tensor u, float limit, Tensor divergentInto) {
        return metropolis(mix(l00, b0, l01, b1), p0, mix(l10, b0, l11, b1), p1, u, limit, divergentInto);
    }

    private static Tensor energy(Backend be, Tensor logf, Tensor p) {
        Tensor kinetic = be.binary(BinaryOp.MUL, be.reduce(ReduceOp.SUM, be.unary(UnaryOp.SQUARE, p), 1), 0.5f);
        return be.binary(BinaryOp.SUB, kinetic, logf);
    }

    /** {@code into = mask ? a : into} row by row, in place ({@link #where}'s rule for the mask). */
    default void selectInto(Tensor mask, Tensor a, Tensor into) {
        into.copyFrom(where(mask, a, into));
    }

    /** {@link #selectInto} of each {@code a.get(i)} into {@code into.get(i)} with one mask, in list order (a chain's whole state). */
    default void selectAllInto(Tensor mask, List<Tensor> a, List<Tensor> into) {
        for (int i = 0; i < a.size(); i++) {
            selectInto(mask, a.get(i), into.get(i));
        }
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
     * {@code clock} ({@link #adamClock}); {@code g} has w's size. The float operations in the order of the host's
     * {@code engine.optim.Adam} ({@code ((1 - beta2) g) g}, {@code (stepSize m) / (sqrt(v) + epsHat)}), so that a backend
     * whose primitives round each operation correctly takes the host's steps bit for bit.
     */
    default void adamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, float beta1, float beta2, Tensor clock, Tensor... gates) {
        if (!finite(gates)) {
            return;
        }
        float stepSize = clock.get(1), epsHat = clock.get(2);
        Tensor gr = g.reshape(w.shape());
        m.copyFrom(binary(BinaryOp.ADD, binary(BinaryOp.MUL, m, beta1), binary(BinaryOp.MUL, gr, 1 - beta1)));
        v.copyFrom(binary(BinaryOp.ADD, binary(BinaryOp.MUL, v, beta2), binary(BinaryOp.MUL, binary(BinaryOp.MUL, gr, 1 - beta2), gr)));
        Tensor denom = binary(BinaryOp.ADD, unary(UnaryOp.SQRT, v), epsHat);
        w.copyFrom(binary(BinaryOp.SUB, w, binary(BinaryOp.DIV, binary(BinaryOp.MUL, m, stepSize), denom)));
    }

    /**
     * {@link #adamUpdate} of several parameter tensors with their gradients and moments (lists of one length), in
     * list order: one optimiser's step over all its parameters.
     */
    default void adamUpdateAll(List<Tensor> w, List<Tensor> g, List<Tensor> m, List<Tensor> v,
                               float beta1, float beta2, Tensor clock, Tensor... gates) {
        for (int i = 0; i < w.size(); i++) {
            adamUpdate(w.get(i), g.get(i), m.get(i), v.get(i), beta1, beta2, clock, gates);
        }
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
