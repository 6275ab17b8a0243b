package org.aiwae.engine.backend;

import static org.aiwae.engine.backend.Gemm.S;
import static org.aiwae.engine.backend.Gemm.V;

import java.util.concurrent.atomic.LongAdder;
import jdk.incubator.vector.FloatVector;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.fused.AbstractDecoderKernel;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.engine.math.Gaussian;

/**
 * The CPU form of the fused decoder log-density: each thread takes a range of rows through the
 * whole network (forward, Bernoulli log-likelihood, backward to z) in buffers allocated once.
 */
final class CpuDecoderKernel extends AbstractDecoderKernel {
    private final int[] in;
    private final int[] out;
    /** Weights packed for the forward products, {@code h W^T}. */
    private final Gemm.Packed[] forwardW;
    /** Weights packed for the backward products, {@code g W}. */
    private final Gemm.Packed[] backwardW;
    /** Activations of each hidden layer, then the logits (reused for their gradient). */
    private final float[][] act;
    /** Gradient with respect to each hidden layer's output. */
    private final float[][] delta;

    /** The backend's primitive counter: one per {@link #logJoint}. */
    private final LongAdder calls;

    CpuDecoderKernel(TanhMlpDecoder decoder, int maxRows, LongAdder calls) {
        super(decoder, maxRows);
        this.calls = calls;
        this.in = new int[layers];
        this.out = new int[layers];
        this.forwardW = new Gemm.Packed[layers];
        this.backwardW = new Gemm.Packed[layers];
        this.act = new float[layers][];
        this.delta = new float[layers][];
        for (int l = 0; l < layers; l++) {
            in[l] = in(l);
            out[l] = out(l);
            forwardW[l] = Gemm.Packed.allocate(in[l], out[l]);
            backwardW[l] = Gemm.Packed.allocate(out[l], in[l]);
            act[l] = new float[maxRows * out[l]];
            delta[l] = l < layers - 1 ? new float[maxRows * out[l]] : null;
        }
        refresh();
    }

    @Override
    public void refresh() {
        for (int l = 0; l < layers; l++) {
            Tensor w = decoder.weights().get(l);
            forwardW[l].fillTransposed(w.data(), w.offset(), in[l]);
            backwardW[l].fill(w.data(), w.offset(), in[l]);
        }
    }

    @Override
    public void logJoint(Tensor z, Tensor x, Tensor logp, Tensor gradZ) {
        calls.increment();
        int n = DecoderKernel.checkRows(this, z, x, logp, gradZ);
        Parallel.forRange(n, Gemm.MR, 8, (from, to) -> rows(z, x, logp, gradZ, from, to));
    }

    private void rows(Tensor z, Tensor x, Tensor logp, Tensor gradZ, int r0, int r1) {
        int widest = 0;
        for (int w : out) {
            widest = Math.max(widest, w);
        }
        FloatMath.Scratch scratch = new FloatMath.Scratch(widest);
        Gemm.Scratch gemm = new Gemm.Scratch(r1 - r0, widest);
        forward(z, r0, r1, scratch, gemm);
        likelihood(z, x, logp, gradZ != null, r0, r1, scratch);
        if (gradZ != null) {
            backward(z, gradZ, r0, r1, gemm);
        }
    }

    /** Hidden layers and logits of rows [r0, r1). */
    private void forward(Tensor z, int r0, int r1, FloatMath.Scratch scratch, Gemm.Scratch gemm) {
        int n = r1 - r0;
        float[] src = z.data();
        int srcOff = z.offset() + r0 * in[0];
        for (int l = 0; l < layers; l++) {
            float[] dst = act[l];
            int dstOff = r0 * out[l];
            Gemm.multiply(src, srcOff, in[l], 1, forwardW[l], dst, dstOff, out[l], n, false, gemm);
            if (l < layers - 1) {
                Tensor b = decoder.biases().get(l);
                for (int r = 0; r < n; r++) {
                    VectorMath.add(dst, dstOff + r * out[l], b.data(), b.offset(), dst, dstOff + r * out[l], out[l]);
                }
                // tanh over the block, not row by row: a width like 200 would leave a scalar tail per row
                FloatMath.tanh(dst, dstOff, dst, dstOff, n * out[l], scratch);
            }
            src = dst;
            srcOff = dstOff;
        }
    }

    /**
     * Bernoulli log-likelihood plus the prior from the logits, unless logp is null (a gradient-only
     * evaluation); with grad, the logits buffer becomes d logp / d logits, the same bits either way.
     */
    private void likelihood(Tensor z, Tensor x, Tensor logp, boolean grad, int r0, int r1, FloatMath.Scratch scratch) {
        int d = out[layers - 1];
        int zDim = in[0];
        float[] logits = act[layers - 1];
        Tensor bias = decoder.biases().get(layers - 1);
        int batch = x.dim(0);
        float[] terms = new float[d]; // x log sigmoid(l) + (1 - x) log sigmoid(-l) = x l - softplus(l), per pixel
        float[] e = new float[d];
        for (int r = r0; r < r1; r++) {
            int lo = r * d;
            int xo = x.offset() + (r % batch) * d;
            VectorMath.add(logits, lo, bias.data(), bias.offset(), logits, lo, d);
            FloatMath.scaledNegAbs(logits, lo, -1f, e, 0, d);
            FloatMath.exp(e, 0, e, 0, d);
            if (logp != null) {
                FloatMath.softplusFromExp(logits, lo, e, 0, terms, 0, d, scratch);
                bernoulliTerms(x.data(), xo, logits, lo, terms, d);
            }
            if (grad) { // d/dl = x - sigmoid(l)
                FloatMath.sigmoidFromExp(logits, lo, e, 0, logits, lo, d);
                VectorMath.sub(x.data(), xo, logits, lo, logits, lo, d);
            }
            if (logp == null) {
                continue;
            }
            double prior = 0;
            for (int j = 0, zo = z.offset() + r * zDim; j < zDim; j++) {
                prior += z.data()[zo + j] * z.data()[zo + j];
            }
            logp.data()[logp.offset() + r] = (float) (VectorMath.sum(terms, 0, d) - 0.5 * prior - Gaussian.logNormalizer(zDim));
        }
    }

    /** {@code t = x l - t}, where t holds softplus(l). */
    private static void bernoulliTerms(float[] x, int xo, float[] l, int lo, float[] t, int d) {
        int i = 0;
        for (int end = S.loopBound(d); i < end; i += V) {
            FloatVector.fromArray(S, x, xo + i).mul(FloatVector.fromArray(S, l, lo + i))
                    .sub(FloatVector.fromArray(S, t, i)).intoArray(t, i);
        }
        for (; i < d; i++) {
            t[i] = x[xo + i] * l[lo + i] - t[i];
        }
    }

    /** Back from d logp / d logits to d logp / dz: {@code delta_l = (delta_{l+1} W_{l+1}) * (1 - h_l^2)}. */
    private void backward(Tensor z, Tensor gradZ, int r0, int r1, Gemm.Scratch gemm) {
        int n = r1 - r0;
        int zDim = in[0];
        float[] g = act[layers - 1];
        int gOff = r0 * out[layers - 1];
        for (int l = layers - 2; l >= 0; l--) {
            int dOff = r0 * out[l];
            Gemm.multiply(g, gOff, out[l + 1], 1, backwardW[l + 1], delta[l], dOff, out[l], n, false, gemm);
            VectorMath.tanhGrad(delta[l], dOff, act[l], dOff, delta[l], dOff, n * out[l]);
            g = delta[l];
            gOff = dOff;
        }
        int go = gradZ.offset() + r0 * zDim;
        Gemm.multiply(g, gOff, out[0], 1, backwardW[0], gradZ.data(), go, zDim, n, false, gemm);
        VectorMath.sub(gradZ.data(), go, z.data(), z.offset() + r0 * zDim, gradZ.data(), go, n * zDim);
    }
}
