package org.aiwae.kernels;

import java.util.List;

import org.aiwae.kernels.Device.Buffer;
import org.aiwae.kernels.KernelCall.Grid;

/**
 * The host side of every kernel in {@code aiwae_body.h}, written once for OpenCL and CUDA: each method
 * lists its kernel's arguments in the kernel's order with the kernel's types, and its launch geometry,
 * and hands the {@link KernelCall} to the {@link Device}. {@code KernelSourceTest} checks every call
 * these methods make against the kernel signatures in the body and, where nvcc built them, in the PTX.
 */
public final class Kernels {
    /** sgemm's output block per group: {@code TILE x TILE} ({@code GEMM_TILE} in the body). */
    public static final int TILE = 64;
    /**
     * sgemm's group: {@code TILE_THREADS x TILE_THREADS} work-items ({@code GEMM_THREADS} in the body), each
     * computing {@code TILE / TILE_THREADS} squared outputs in registers.
     */
    public static final int TILE_THREADS = 16;
    /** bernoulli_rows' group size per row ({@code ROW_THREADS} in the body). */
    public static final int ROW_THREADS = 64;
    /** decoder_rows' rows per group ({@code DEC_ROWS} in the body). */
    public static final int DECODER_ROWS = 8;
    /** decoder_rows' group size ({@code DEC_THREADS} in the body): also the logits it takes at a time. */
    public static final int DECODER_THREADS = 256;
    /** decoder_rows' local floats for activations ({@code DEC_LOCAL} in the body). */
    public static final int DECODER_LOCAL = 8064;

    private final Device device;

    public Kernels(Device device) {
        this.device = device;
    }

    public Device device() {
        return device;
    }

    /** sgemm's epilogues, applied per output element after the product; the codes are the body's {@code EPI_*}. */
    public enum Epilogue {
        /** v */
        NONE(0),
        /** tanh(v + bias[col]): a hidden layer. */
        BIAS_TANH(1),
        /** v + bias[col]: the output layer. */
        BIAS(2),
        /** v (1 - aux[row, col]^2): backward through tanh, aux = the layer's output. */
        TANH_GRAD(3),
        /** v - aux[row, col]: the standard normal prior's gradient, aux = z. */
        SUB_AUX(4);

        final int code;

        Epilogue(int code) {
            this.code = code;
        }
    }

    /**
     * A matrix operand as BLAS takes it: {@code buffer} from element {@code offset}, leading dimension
     * {@code ld}, read transposed when {@code transposed}.
     */
    public record Matrix(Buffer buffer, int offset, int ld, boolean transposed) {
        /** Row-major from the start of {@code buffer}, not transposed. */
        public static Matrix of(Buffer buffer, int ld) {
            return new Matrix(buffer, 0, ld, false);
        }

        public Matrix transpose() {
            return new Matrix(buffer, offset, ld, !transposed);
        }
    }

    /**
     * {@code C[m, n] = op(A) op(B)} ({@code + C} when {@code accumulate}) then the epilogue; op(A) is
     * [m, k], op(B) [k, n]. Each element is one fused multiply-add chain over k in order, from 0 or from C
     * (the CPU's {@code Gemm} contract). {@code bias} and {@code aux} may be null when the epilogue does not
     * read them; {@code aux} is read with {@code c}'s leading dimension, from its element 0. One launch of
     * {@code ceil(n / TILE) x ceil(m / TILE)} groups.
     */
    public void sgemm(int m, int n, int k, Matrix a, Matrix b, Matrix c, boolean accumulate, Epilogue epilogue, Buffer bias,
                      Buffer aux) {
        device.launch(KernelCall.of("sgemm", Grid.tiles(m, n, TILE, TILE_THREADS))
                .i32(m).i32(n).i32(k)
                .buf(a.buffer()).i32(a.offset()).i32(a.ld()).flag(a.transposed())
                .buf(b.buffer()).i32(b.offset()).i32(b.ld()).flag(b.transposed())
                .buf(c.buffer()).i32(c.offset()).i32(c.ld()).flag(accumulate)
                .buf(bias).buf(aux).i32(epilogue.code)
                .build());
    }

    /**
     * log p(x | z) + log N(z; 0, I) of each of {@code rows} rows of {@code logits [rows, data]} with data
     * row {@code r mod batch} of {@code x}, into {@code logp}, and {@code g = x - sigmoid(logits)} when
     * {@code wantGrad} ({@code g} may be null otherwise).
     */
    public void bernoulliRows(int rows, int data, int batch, int latent, Buffer logits, Buffer x, Buffer z, Buffer g, Buffer logp,
                              boolean wantGrad) {
        device.launch(KernelCall.of("bernoulli_rows", Grid.groups(rows, ROW_THREADS))
                .i32(rows).i32(data).i32(batch).i32(latent)
                .buf(logits).buf(x).buf(z).buf(g).buf(logp).flag(wantGrad)
                .build());
    }

    /**
     * {@code y = (x - sigmoid(logits)) g} for the {@code n} logits (from {@code loff}) of rows of {@code data}, row r with data row
     * {@code r mod batch} of {@code x} (from {@code xoff}) and {@code g[goff + r]}.
     */
    public void bernoulliScore(int n, int data, int batch, Buffer logits, int loff, Buffer x, int xoff, Buffer g, int goff, Buffer y) {
        device.launch(KernelCall.of("bernoulli_score", Grid.linear(n)).i32(n).i32(data).i32(batch).buf(logits).i32(loff).buf(x).i32(xoff)
                .buf(g).i32(goff).buf(y).build());
    }

    /** Log-sum-exp over the middle axis of {@code x} viewed as {@code [outer, n, inner]} from {@code xoff}: one work-item per output. */
    public void logSumExp(int outer, int n, int inner, Buffer x, int xoff, Buffer y) {
        device.launch(KernelCall.of("logsumexp_axis", Grid.linear(outer * inner)).i32(outer).i32(n).i32(inner).buf(x).i32(xoff).buf(y)
                .build());
    }

    /** {@code out = exp(x - y) g} with {@code y} and {@code g} broadcast along the middle axis of {@code x} ({@code [outer, n, inner]}). */
    public void logSumExpGrad(int outer, int n, int inner, Buffer x, int xoff, Buffer y, int yoff, Buffer g, int goff, Buffer out) {
        device.launch(KernelCall.of("logsumexp_grad", Grid.linear(outer * n * inner)).i32(outer).i32(n).i32(inner).buf(x).i32(xoff)
                .buf(y).i32(yoff).buf(g).i32(goff).buf(out).build());
    }

    /** The Gaussian KL of each of {@code rows} rows of {@code d} (see the kernel), and the variances. */
    public void gaussianKl(int rows, int d, Buffer mu, int muoff, Buffer logSigma, int lsoff, Buffer kl, Buffer variance) {
        device.launch(KernelCall.of("gaussian_kl_rows", Grid.linear(rows)).i32(rows).i32(d).buf(mu).i32(muoff).buf(logSigma).i32(lsoff)
                .buf(kl).buf(variance).build());
    }

    /** The Gaussian KL's gradients times {@code g} (one value per row of {@code d}), for {@code n} elements (see the kernel). */
    public void gaussianKlGrad(int n, int d, Buffer mu, int muoff, Buffer variance, int varoff, Buffer g, int goff, Buffer dmu, Buffer dls) {
        device.launch(KernelCall.of("gaussian_kl_grad", Grid.linear(n)).i32(n).i32(d).buf(mu).i32(muoff).buf(variance).i32(varoff)
                .buf(g).i32(goff).buf(dmu).buf(dls).build());
    }

    /** A diagonal Gaussian's terms from {@code rows} rows of {@code d} log standard deviations (see the kernel). */
    public void gaussianTerms(int rows, int d, Buffer logSigma, int lsoff, float offset, Buffer a, Buffer s, Buffer constant) {
        device.launch(KernelCall.of("gaussian_terms", Grid.linear(rows)).i32(rows).i32(d).buf(logSigma).i32(lsoff).f32(offset).buf(a).buf(s)
                .buf(constant).build());
    }

    /** The diagonal Gaussian log-density of {@code rows} rows of {@code d} against {@code batch} rows of parameters (see the kernel). */
    public void gaussianLog(int rows, int d, int batch, Buffer z, int zoff, Buffer mu, int muoff, Buffer logSigma, int lsoff, Buffer y,
                            Buffer u, Buffer inv) {
        device.launch(KernelCall.of("gaussian_log_rows", Grid.linear(rows)).i32(rows).i32(d).i32(batch).buf(z).i32(zoff).buf(mu).i32(muoff)
                .buf(logSigma).i32(lsoff).buf(y).buf(u).buf(inv).build());
    }

    /** The diagonal Gaussian log-density's gradients for {@code per} x {@code batch} rows of {@code d} (see the kernel). */
    public void gaussianLogGrad(int per, int batch, int d, Buffer u, Buffer inv, Buffer g, int goff, Buffer gz, Buffer gmu, Buffer gls) {
        device.launch(KernelCall.of("gaussian_log_grad", Grid.linear(batch * d)).i32(per).i32(batch).i32(d).buf(u).buf(inv).buf(g).i32(goff)
                .buf(gz).flag(gz != null).buf(gmu).buf(gls).build());
    }

    /** {@code y [outer, n, inner]} with {@code g [outer, inner]} (from {@code goff}) repeated along the middle axis. */
    public void expand(int outer, int n, int inner, Buffer g, int goff, Buffer y) {
        device.launch(KernelCall.of("expand_axis", Grid.linear(outer * n * inner)).i32(outer).i32(n).i32(inner).buf(g).i32(goff).buf(y).build());
    }

    /** Reparameterised draws of {@code n} values with {@code inner} parameters broadcast over them (see the kernel). */
    public void reparameterize(int n, int inner, Buffer mu, int muoff, Buffer logSigma, int lsoff, Buffer eps, int eoff, Buffer z, Buffer sigma) {
        device.launch(KernelCall.of("reparameterize", Grid.linear(n)).i32(n).i32(inner).buf(mu).i32(muoff).buf(logSigma).i32(lsoff)
                .buf(eps).i32(eoff).buf(z).buf(sigma).build());
    }

    /** The reparameterised draws' gradients for {@code per} x {@code inner} values (see the kernel). */
    public void reparameterizeGrad(int per, int inner, Buffer g, int goff, Buffer eps, int eoff, Buffer sigma, Buffer dmu, Buffer dls) {
        device.launch(KernelCall.of("reparameterize_grad", Grid.linear(inner)).i32(per).i32(inner).buf(g).i32(goff).buf(eps).i32(eoff)
                .buf(sigma).buf(dmu).buf(dls).build());
    }

    /** {@code y[0] = scale sum a w} over {@code n} elements ({@code w} null: of a alone), one group (see the kernel). */
    public void scaledSum(int n, Buffer a, int aoff, Buffer w, int woff, float scale, Buffer y) {
        device.launch(KernelCall.of("scaled_sum", Grid.groups(1, ROW_THREADS)).i32(n).buf(a).i32(aoff).buf(w).i32(woff).flag(w != null)
                .f32(scale).buf(y).build());
    }

    /** {@code y = (g[goff] scale) w} over {@code n} elements ({@code w} null: {@code g[goff] scale}). */
    public void scaledSumGrad(int n, Buffer g, int goff, float scale, Buffer w, int woff, Buffer y) {
        device.launch(KernelCall.of("scaled_sum_grad", Grid.linear(n)).i32(n).buf(g).i32(goff).f32(scale).buf(w).i32(woff).flag(w != null)
                .buf(y).build());
    }

    /** A float array on the device: {@code buffer} from element {@code offset}. */
    public record Slice(Buffer buffer, int offset) {}

    /**
     * Whether {@link #decoderRows} takes a decoder {@code latent -> hidden1 -> hidden2 -> data}: its rows' activations
     * fit a group's local memory (any data width does; it streams the logits).
     */
    public static boolean decoderFits(int latent, int hidden1, int hidden2) {
        return latent > 0 && hidden1 > 0 && hidden2 > 0
                && ((long) latent + hidden1 + 2L * hidden2 + DECODER_THREADS) * DECODER_ROWS <= DECODER_LOCAL;
    }

    /**
     * The decoder {@code z [rows, latent] -> tanh(z W1^T + b1) -> tanh(h1 W2^T + b2) -> logits h2 W3^T + b3} with
     * Bernoulli outputs and a standard normal prior, whole, in one launch ({@code decoder_rows}): row {@code r} with data
     * row {@code r mod batch} of {@code x}; {@code logp[r] = log p(x, z_r)} unless {@code logp} is null, {@code grad[r] =
     * d logp[r] / dz_r} unless {@code grad} is null. Weights are {@code [out, in]} row-major. Requires {@link #decoderFits}.
     */
    public void decoderRows(int rows, int batch, int latent, int hidden1, int hidden2, int data, Slice w1, Slice b1, Slice w2,
                            Slice b2, Slice w3, Slice b3, Slice z, Slice x, Slice logp, Slice grad) {
        if (!decoderFits(latent, hidden1, hidden2)) {
            throw new IllegalArgumentException("decoder_rows: " + latent + " -> " + hidden1 + " -> " + hidden2
                    + " does not fit a group's local memory");
        }
        KernelCall.Builder call = KernelCall.of("decoder_rows", Grid.groups((rows + DECODER_ROWS - 1) / DECODER_ROWS, DECODER_THREADS))
                .i32(rows).i32(batch).i32(latent).i32(hidden1).i32(hidden2).i32(data);
        for (Slice s : new Slice[] {w1, b1, w2, b2, w3, b3, z, x}) {
            call.buf(s.buffer()).i32(s.offset());
        }
        device.launch(call.buf(logp == null ? null : logp.buffer()).i32(logp == null ? 0 : logp.offset()).flag(logp != null)
                .buf(grad == null ? null : grad.buffer()).i32(grad == null ? 0 : grad.offset()).flag(grad != null)
                .build());
    }

    /** {@code n} values of the Philox stream (seed, id) from block {@code position}: normals or uniforms, as RandomStream draws them. */
    public void philoxFill(int n, long seed, long id, long position, boolean normal, Buffer out) {
        device.launch(KernelCall.of("philox_fill", Grid.linear((n + 3) / 4))
                .i32(n).i32((int) seed).i32((int) (seed >>> 32)).i32((int) id).i32((int) (id >>> 32))
                .i64(position).flag(normal).buf(out)
                .build());
    }

    /** {@link #philoxFill} with the stream's (seed, id) read from {@code key[koff..koff+3]} on the device (uint words). */
    public void philoxFillKeyed(int n, Buffer key, int koff, long position, boolean normal, Buffer out) {
        philoxFillKeyed(n, key, koff, position, normal, out, 0, null);
    }

    /** {@link #philoxFillKeyed}, then {@code n2} uniforms into {@code out2} from the blocks that follow, in one launch. */
    public void philoxFillKeyed(int n, Buffer key, int koff, long position, boolean normal, Buffer out, int n2, Buffer out2) {
        device.launch(KernelCall.of("philox_fill_keyed", Grid.linear((n + 3) / 4 + (n2 + 3) / 4))
                .i32(n).buf(key).i32(koff).i64(position).flag(normal).buf(out).i32(n2).buf(out2)
                .build());
    }

    /**
     * ChainNoise.PerGroup's draws: {@code groups} streams (their ids as uint pairs in {@code ids}), each
     * {@code per * dim} values in {@code blocks} Philox blocks from {@code position}, into {@code out[per, groups, dim]}.
     */
    public void philoxFillGroups(int groups, int blocks, int per, int dim, long seed, Buffer ids, long position, boolean normal,
                                 Buffer out) {
        philoxFillGroups(groups, blocks, per, dim, seed, ids, position, normal, out, null, 0);
    }

    /**
     * {@link #philoxFillGroups}, from block {@code position + i stride} where {@code clock} (an AIS temperature clock, see
     * {@link #aisTick}) is at step i; from {@code position} when {@code clock} is null.
     */
    public void philoxFillGroups(int groups, int blocks, int per, int dim, long seed, Buffer ids, long position, boolean normal,
                                 Buffer out, Buffer clock, long stride) {
        int items = groups * blocks;
        device.launch(KernelCall.of("philox_fill_groups", Grid.linear(items))
                .i32(items).i32(groups).i32(per).i32(dim).i32((int) seed).i32((int) (seed >>> 32))
                .buf(ids).i64(position).flag(normal).buf(out).buf(clock).flag(clock != null).i64(stride)
                .build());
    }

    /** Moves an AIS temperature clock ({@code clock[0]}, the step; then {@code (b0, b1, dbeta)} per step) to the next step. */
    public void aisTick(Buffer clock) {
        device.launch(KernelCall.of("ais_tick", Grid.linear(1)).buf(clock).build());
    }

    /** {@code y[i] = op(x[xoff + i])} for {@code i < n}; {@code op} is a {@code UnaryOp} ordinal. */
    public void unaryOp(int n, int op, Buffer x, int xoff, Buffer y) {
        device.launch(KernelCall.of("unary_op", Grid.linear(n)).i32(n).i32(op).buf(x).i32(xoff).buf(y).build());
    }

    /** {@code y[i] = op(x[xoff + i], c)} for {@code i < n}; {@code op} is a {@code BinaryOp} ordinal. */
    public void binaryScalar(int n, int op, Buffer x, int xoff, float c, Buffer y) {
        device.launch(KernelCall.of("binary_scalar", Grid.linear(n)).i32(n).i32(op).buf(x).i32(xoff).f32(c).buf(y).build());
    }

    /**
     * {@code y = op(a, b)} over an output of shape {@code [n / (d[1] d[2] d[3]), d[1], d[2], d[3]]}; an
     * operand's element is at its offset plus the output index times its four strides (0 where it broadcasts).
     */
    public void binaryOp(int n, int op, int[] d, Buffer a, int aoff, int[] as, Buffer b, int boff, int[] bs, Buffer y) {
        device.launch(KernelCall.of("binary_op", Grid.linear(n)).i32(n).i32(op).i32(d[1]).i32(d[2]).i32(d[3])
                .buf(a).i32(aoff).i32(as[0]).i32(as[1]).i32(as[2]).i32(as[3])
                .buf(b).i32(boff).i32(bs[0]).i32(bs[1]).i32(bs[2]).i32(bs[3])
                .buf(y).build());
    }

    /** x viewed as {@code [outer, n, inner]}: {@code y[o, j]} = sum ({@code op} 0) or max (1) over the middle axis. */
    public void reduceAxis(int outer, int n, int inner, int op, Buffer x, int xoff, Buffer y) {
        device.launch(KernelCall.of("reduce_axis", Grid.linear(outer * inner))
                .i32(outer).i32(n).i32(inner).i32(op).buf(x).i32(xoff).buf(y).build());
    }

    /** x viewed as {@code [rows, n]}: the sum or max of each row, one group of {@link #ROW_THREADS} per row. */
    public void reduceRows(int rows, int n, int op, Buffer x, int xoff, Buffer y) {
        device.launch(KernelCall.of("reduce_rows", Grid.groups(rows, ROW_THREADS))
                .i32(rows).i32(n).i32(op).buf(x).i32(xoff).buf(y).build());
    }

    /** {@code y[i] = mask[moff + i / inner] != 0 ? a[aoff + i] : b[boff + i]} for {@code i < n}. */
    public void whereRows(int n, int inner, Buffer mask, int moff, Buffer a, int aoff, Buffer b, int boff, Buffer y) {
        device.launch(KernelCall.of("where_rows", Grid.linear(n))
                .i32(n).i32(inner).buf(mask).i32(moff).buf(a).i32(aoff).buf(b).i32(boff).buf(y).build());
    }

    // ---------------------------------------------------------------- fused HMC, AIS and step-size updates

    /** {@code y[i] = a[aoff + i] ca + b[boff + i] cb} for {@code i < n}. */
    public void mix(int n, Buffer a, int aoff, float ca, Buffer b, int boff, float cb, Buffer y) {
        device.launch(KernelCall.of("weighted_sum", Grid.linear(n)).i32(n).buf(a).i32(aoff).f32(ca).buf(b).i32(boff).f32(cb).buf(y).build());
    }

    /** A diagonal Gaussian's log-density and score for {@code n} chain rows of dimension {@code d} (see the kernel). */
    public void diagonalGaussian(int n, int d, int batch, Buffer z, int zoff, Buffer mu, Buffer a, Buffer s, Buffer constant, Buffer logq,
                                 Buffer grad) {
        device.launch(KernelCall.of("diagonal_gaussian", Grid.linear(n)).i32(n).i32(d).i32(batch).buf(z).i32(zoff).buf(mu).buf(a)
                .buf(s).buf(constant).buf(logq).buf(grad).build());
    }

    /** {@code y[i] = ((z[i] - mu[j]) a[j]) b[j]}, {@code j = i mod inner}; {@code b} may be null (left out). */
    public void scaledDifference(int n, int inner, Buffer z, int zoff, Buffer mu, int muoff, Buffer a, int aoff, Buffer b, int boff,
                                 Buffer y) {
        device.launch(KernelCall.of("scaled_difference", Grid.linear(n)).i32(n).i32(inner).buf(z).i32(zoff).buf(mu).i32(muoff)
                .buf(a).i32(aoff).buf(b).i32(boff).flag(b != null).buf(y).build());
    }

    /**
     * A leapfrog kick (and drift when {@code drift}) of {@code n} values of chains of dimension {@code d} (see the kernel): the
     * gradient {@code g} from {@code goff}, or the Gaussian {@link Score} at z, mixed with {@code tempered}'s second
     * term when that is not null.
     */
    public void hmcKickDrift(int n, int d, Buffer eps, int eoff, boolean perChain, float scale, Buffer p, int poff, Buffer g, int goff,
                             Score gaussian, Tempered tempered, Buffer pOut, Buffer z, int zoff, Buffer zOut, boolean drift) {
        Score q = gaussian == null ? new Score(1, null, 0, null, 0, null, 0) : gaussian;
        Tempered t = tempered == null ? new Tempered(1f, null, 0, 0f, null) : tempered;
        device.launch(KernelCall.of("hmc_kick_drift", Grid.linear(n)).i32(n).i32(d).buf(eps).i32(eoff).flag(perChain).f32(scale)
                .buf(p).i32(poff).buf(g).i32(goff)
                .flag(gaussian != null).i32(q.inner()).buf(q.mu()).i32(q.muoff()).buf(q.a()).i32(q.aoff()).buf(q.s()).i32(q.soff())
                .flag(tempered != null).f32(t.b0()).buf(t.g1()).i32(t.g1off()).f32(t.b1())
                .buf(pOut).buf(z).i32(zoff).buf(zOut).flag(drift).buf(t.clock()).flag(t.clock() != null).build());
    }

    /** A diagonal Gaussian's score {@code ((z - mu_j) a_j) s_j}, {@code j = i mod inner}, as {@link #scaledDifference} computes it. */
    public record Score(int inner, Buffer mu, int muoff, Buffer a, int aoff, Buffer s, int soff) {}

    /**
     * The second term of a tempered gradient, {@code g b0 + g1 b1}; b0 and b1 from the AIS temperature {@code clock}'s step
     * instead where it is not null.
     */
    public record Tempered(float b0, Buffer g1, int g1off, float b1, Buffer clock) {}

    /**
     * The Metropolis test of {@code n} chains of dimension {@code d} (see the kernel), on {@code logf0} and {@code logf1} or, when
     * {@code logg0} is not null, on the tempered {@code logf b0 + logg b1}; {@code divergentSum} may be null.
     */
    public void hmcMetropolis(int n, int d, Buffer p0, int p0off, Buffer logf0, int l0off, Buffer p1, int p1off, Buffer logf1, int l1off,
                              Buffer logg0, int g0off, Buffer logg1, int g1off, float b0, float b1, Buffer u, int uoff, float limit,
                              Buffer accepted, Buffer divergent, Buffer energyChange, Buffer divergentSum, Buffer clock) {
        device.launch(KernelCall.of("hmc_metropolis", Grid.linear(n)).i32(n).i32(d).buf(p0).i32(p0off).buf(logf0).i32(l0off)
                .buf(p1).i32(p1off).buf(logf1).i32(l1off).flag(logg0 != null).buf(logg0).i32(g0off).buf(logg1).i32(g1off).f32(b0).f32(b1)
                .buf(u).i32(uoff).f32(limit).buf(accepted).buf(divergent).buf(energyChange)
                .buf(divergentSum).flag(divergentSum != null).buf(clock).flag(clock != null).build());
    }

    /** One tensor of {@link #selectRowsInto}: rows of {@code inner} elements of {@code a} (from {@code aoff}) into {@code y} (from {@code yoff}). */
    public record Selected(int inner, Buffer a, int aoff, Buffer y, int yoff) {}

    /** Tensors {@link #selectRowsInto} takes in one launch. */
    public static final int SELECT_SLOTS = 5;

    /**
     * For {@code rows} rows, each of up to {@link #SELECT_SLOTS} tensors' row copied from {@code a} into {@code y} where
     * {@code mask[moff + row] != 0}; {@code y} is left elsewhere.
     */
    public void selectRowsInto(int rows, Buffer mask, int moff, List<Selected> slots) {
        if (slots.isEmpty() || slots.size() > SELECT_SLOTS) {
            throw new IllegalArgumentException("select_rows_into takes 1 to " + SELECT_SLOTS + " tensors, got " + slots.size());
        }
        int width = 0;
        for (Selected t : slots) {
            width = Math.max(width, t.inner());
        }
        KernelCall.Builder call = KernelCall.of("select_rows_into", Grid.linear(Math.multiplyExact(rows, width))).i32(rows).i32(width)
                .buf(mask).i32(moff);
        for (int i = 0; i < SELECT_SLOTS; i++) {
            Selected t = i < slots.size() ? slots.get(i) : new Selected(0, null, 0, null, 0);
            call.i32(t.inner()).buf(t.a()).i32(t.aoff()).buf(t.y()).i32(t.yoff());
        }
        device.launch(call.build());
    }

    /**
     * AIS's compensated reweighting of {@code n} chains (see the kernel); outputs may alias {@code w} and {@code c}; dbeta from
     * the AIS temperature {@code clock}'s step instead where it is not null.
     */
    public void aisReweight(int n, Buffer l0, int l0off, Buffer l1, int l1off, float dbeta, Buffer w, int woff, Buffer c, int coff,
                            Buffer wOut, Buffer cOut, Buffer clock) {
        device.launch(KernelCall.of("ais_reweight", Grid.linear(n)).i32(n).buf(l0).i32(l0off).buf(l1).i32(l1off).f32(dbeta)
                .buf(w).i32(woff).buf(c).i32(coff).buf(wOut).buf(cOut).buf(clock).flag(clock != null).build());
    }

    /**
     * The multiplicative step-size rule for {@code groups} groups of {@code per} chains each (see the kernel); the count at
     * {@code coff + i} where the AIS temperature {@code clock} (may be null) is at step i.
     */
    public void adaptStepSizes(int groups, int per, Buffer accepted, int aoff, float threshold, float up, float down, float lo, float hi,
                               Buffer size, int soff, Buffer count, int coff, Buffer clock) {
        device.launch(KernelCall.of("adapt_step_sizes", Grid.linear(groups)).i32(groups).i32(per).buf(accepted).i32(aoff)
                .f32(threshold).f32(up).f32(down).f32(lo).f32(hi).buf(size).i32(soff).buf(count).i32(coff).buf(clock).flag(clock != null)
                .build());
    }

    /** Adam's per-step scalars in {@code clock = [t, stepSize, epsHat, lr]}, unless a gate value is not finite (see the kernel). */
    public void adamClock(Buffer clock, float beta1, float beta2, float eps, Buffer gateA, Buffer gateB) {
        device.launch(KernelCall.of("adam_clock", Grid.linear(1)).buf(clock).f32(beta1).f32(beta2).f32(eps)
                .buf(gateA).flag(gateA != null).buf(gateB).flag(gateB != null).build());
    }

    /** One parameter tensor of {@link #adamUpdate}: {@code n} parameters {@code w} from {@code woff}, gradients {@code g} from {@code goff}, moments {@code m}, {@code v}. */
    public record AdamSlot(int n, Buffer w, int woff, Buffer g, int goff, Buffer m, Buffer v) {}

    /** Parameter tensors {@link #adamUpdate} takes in one launch. */
    public static final int ADAM_SLOTS = 4;

    /**
     * Adam's update of up to {@link #ADAM_SLOTS} parameter tensors in one launch with the scalars of {@code clock}, unless a
     * gate value is not finite.
     */
    public void adamUpdate(List<AdamSlot> slots, float beta1, float beta2, Buffer clock, Buffer gateA, Buffer gateB) {
        if (slots.isEmpty() || slots.size() > ADAM_SLOTS) {
            throw new IllegalArgumentException("adam_update takes 1 to " + ADAM_SLOTS + " tensors, got " + slots.size());
        }
        long total = 0;
        for (AdamSlot s : slots) {
            total += s.n();
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("adam_update of " + total + " parameters in one launch");
        }
        KernelCall.Builder call = KernelCall.of("adam_update", Grid.linear((int) total));
        for (int i = 0; i < ADAM_SLOTS; i++) {
            AdamSlot s = i < slots.size() ? slots.get(i) : new AdamSlot(0, null, 0, null, 0, null, null);
            call.i32(s.n()).buf(s.w()).i32(s.woff()).buf(s.g()).i32(s.goff()).buf(s.m()).buf(s.v());
        }
        device.launch(call.f32(beta1).f32(beta2).buf(clock).buf(gateA).flag(gateA != null).buf(gateB).flag(gateB != null).build());
    }
}
