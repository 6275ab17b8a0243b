package org.aiwae.engine.backend;

import static org.aiwae.engine.backend.Gemm.S;
import static org.aiwae.engine.backend.Gemm.V;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;

/**
 * The CPU form of the fused decoder log-density: each thread takes a range of rows through the
 * whole network (forward, Bernoulli log-likelihood, backward to z) in buffers allocated once.
 */
final class CpuDecoderKernel implements DecoderKernel {
    private static final float HALF_LOG_2PI = (float) (0.5 * Math.log(2 * Math.PI));

    private final TanhMlpDecoder decoder;
    private final int maxRows;
    private final int layers;
    private final int[] in;
    private final int[] out;
    /** Transposed weights {@code [in, out]}, so the forward product is A B with B row-major. */
    private final float[][] wT;
    /** Activations of each hidden layer, then the logits (reused for their gradient). */
    private final float[][] act;
    /** Gradient with respect to each hidden layer's output. */
    private final float[][] delta;

    CpuDecoderKernel(TanhMlpDecoder decoder, int maxRows) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("decoder kernel: maxRows must be positive, got " + maxRows);
        }
        this.decoder = decoder;
        this.maxRows = maxRows;
        this.layers = decoder.layers();
        this.in = new int[layers];
        this.out = new int[layers];
        this.wT = new float[layers][];
        this.act = new float[layers][];
        this.delta = new float[layers][];
        for (int l = 0; l < layers; l++) {
            in[l] = decoder.weights().get(l).dim(1);
            out[l] = decoder.width(l);
            wT[l] = new float[in[l] * out[l]];
            act[l] = new float[maxRows * out[l]];
            delta[l] = l < layers - 1 ? new float[maxRows * out[l]] : null;
        }
        refresh();
    }

    @Override
    public TanhMlpDecoder decoder() {
        return decoder;
    }

    @Override
    public int maxRows() {
        return maxRows;
    }

    @Override
    public void refresh() {
        for (int l = 0; l < layers; l++) {
            Tensor w = decoder.weights().get(l);
            Gemm.transpose(w.data(), w.offset(), in[l], out[l], in[l], wT[l], 0);
        }
    }

    @Override
    public void logJoint(Tensor z, Tensor x, Tensor logp, Tensor gradZ) {
        int n = DecoderKernel.checkRows(this, z, x, logp, gradZ);
        Parallel.forRange(n, 4, 8, (from, to) -> rows(z, x, logp, gradZ, from, to));
    }

    private void rows(Tensor z, Tensor x, Tensor logp, Tensor gradZ, int r0, int r1) {
        int n = r1 - r0;
        int zDim = in[0];
        // forward through the hidden layers
        float[] src = z.data();
        int srcOff = z.offset() + r0 * zDim;
        for (int l = 0; l < layers; l++) {
            float[] dst = act[l];
            int dstOff = r0 * out[l];
            Gemm.multiply(src, srcOff, in[l], 1, wT[l], 0, out[l], dst, dstOff, out[l], n, out[l], in[l], false);
            if (l < layers - 1) {
                Tensor b = decoder.biases().get(l);
                for (int r = 0; r < n; r++) {
                    VectorMath.biasTanh(dst, dstOff + r * out[l], b.data(), b.offset(), out[l]);
                }
            }
            src = dst;
            srcOff = dstOff;
        }
        // Bernoulli log-likelihood from logits; the logits buffer becomes d logp / d logits
        int d = out[layers - 1];
        float[] logits = act[layers - 1];
        Tensor bias = decoder.biases().get(layers - 1);
        int batch = x.dim(0);
        boolean grad = gradZ != null;
        for (int r = r0; r < r1; r++) {
            int lo = r * d;
            int xo = x.offset() + (r % batch) * d;
            FloatVector acc = FloatVector.zero(S);
            for (int i = 0; i < d; i += V) {
                VectorMask<Float> m = S.indexInRange(i, d);
                FloatVector l = FloatVector.fromArray(S, logits, lo + i, m)
                        .add(FloatVector.fromArray(S, bias.data(), bias.offset() + i, m));
                FloatVector xv = FloatVector.fromArray(S, x.data(), xo + i, m);
                acc = acc.add(xv.mul(l).sub(VectorMath.softplus(l)), m);
                if (grad) {
                    xv.sub(VectorMath.sigmoid(l)).intoArray(logits, lo + i, m);
                }
            }
            double prior = 0;
            for (int j = 0, zo = z.offset() + r * zDim; j < zDim; j++) {
                prior += z.data()[zo + j] * z.data()[zo + j];
            }
            logp.data()[logp.offset() + r] = (float) (acc.reduceLanes(VectorOperators.ADD) - 0.5 * prior - zDim * HALF_LOG_2PI);
        }
        if (!grad) {
            return;
        }
        // backward to z: delta_l = (delta_{l+1} W_{l+1}) * (1 - h_l^2)
        float[] g = logits;
        int gOff = r0 * d;
        for (int l = layers - 2; l >= 0; l--) {
            Tensor w = decoder.weights().get(l + 1);
            int dOff = r0 * out[l];
            Gemm.multiply(g, gOff, out[l + 1], 1, w.data(), w.offset(), in[l + 1], delta[l], dOff, out[l], n, out[l], out[l + 1], false);
            VectorMath.zip(BinaryOp.TANH_GRAD, delta[l], dOff, act[l], dOff, delta[l], dOff, n * out[l]);
            g = delta[l];
            gOff = dOff;
        }
        Tensor w0 = decoder.weights().get(0);
        int go = gradZ.offset() + r0 * zDim;
        Gemm.multiply(g, gOff, out[0], 1, w0.data(), w0.offset(), zDim, gradZ.data(), go, zDim, n, zDim, out[0], false);
        VectorMath.zip(BinaryOp.SUB, gradZ.data(), go, z.data(), z.offset() + r0 * zDim, gradZ.data(), go, n * zDim);
    }
}
