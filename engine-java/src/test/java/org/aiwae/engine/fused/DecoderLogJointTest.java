package org.aiwae.engine.fused;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backends;
import org.junit.jupiter.api.Test;

/**
 * log p(x, z) of the paper's decoder (50-200-200-784, tanh, Bernoulli) and its gradient in z,
 * through autodiff ops and through the fused kernel, against a plain double-precision evaluation.
 */
class DecoderLogJointTest {
    static final int[] WIDTHS = {50, 200, 200, 784};
    private final Random rnd = new Random(5);

    static TanhMlpDecoder randomDecoder(Random rnd, int... widths) {
        List<Tensor> w = new ArrayList<>(), b = new ArrayList<>();
        for (int l = 0; l + 1 < widths.length; l++) {
            Tensor wl = Tensor.zeros(widths[l + 1], widths[l]);
            Tensor bl = Tensor.zeros(widths[l + 1]);
            double scale = 1.5 / Math.sqrt(widths[l]);
            for (int i = 0; i < wl.size(); i++) {
                wl.data()[i] = (float) (scale * rnd.nextGaussian());
            }
            for (int i = 0; i < bl.size(); i++) {
                bl.data()[i] = (float) (0.5 * rnd.nextGaussian());
            }
            w.add(wl);
            b.add(bl);
        }
        return new TanhMlpDecoder(w, b);
    }

    /** Straightforward double evaluation: returns {logp, dlogp/dz_0, ..., dlogp/dz_{Z-1}}. */
    static double[] reference(TanhMlpDecoder dec, float[] z, float[] x) {
        int layers = dec.layers();
        double[][] acts = new double[layers + 1][];
        acts[0] = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            acts[0][i] = z[i];
        }
        for (int l = 0; l < layers; l++) {
            Tensor w = dec.weights().get(l);
            int out = w.dim(0), in = w.dim(1);
            acts[l + 1] = new double[out];
            for (int o = 0; o < out; o++) {
                double s = dec.biases().get(l).data()[o];
                for (int i = 0; i < in; i++) {
                    s += w.data()[o * in + i] * acts[l][i];
                }
                acts[l + 1][o] = l < layers - 1 ? Math.tanh(s) : s;
            }
        }
        double[] logits = acts[layers];
        double lp = 0;
        double[] g = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            double l = logits[i];
            lp += x[i] * l - (Math.max(l, 0) + Math.log1p(Math.exp(-Math.abs(l))));
            g[i] = x[i] - 1 / (1 + Math.exp(-l));
        }
        for (int l = layers - 1; l >= 0; l--) {
            Tensor w = dec.weights().get(l);
            int out = w.dim(0), in = w.dim(1);
            double[] gi = new double[in];
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    gi[i] += g[o] * w.data()[o * in + i];
                }
            }
            if (l > 0) {
                for (int i = 0; i < in; i++) {
                    gi[i] *= 1 - acts[l][i] * acts[l][i];
                }
            }
            g = gi;
        }
        double[] result = new double[1 + z.length];
        result[0] = lp;
        for (int i = 0; i < z.length; i++) {
            result[0] += -0.5 * z[i] * z[i] - 0.5 * Math.log(2 * Math.PI);
            result[1 + i] = g[i] - z[i];
        }
        return result;
    }

    private Tensor randn(int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = (float) rnd.nextGaussian();
        }
        return t;
    }

    private Tensor binary(int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = rnd.nextDouble() < 0.3 ? 1f : 0f;
        }
        return t;
    }

    private static void assertMatches(double[][] ref, Tensor logp, Tensor grad, String what) {
        for (int n = 0; n < ref.length; n++) {
            assertEquals(ref[n][0], logp.data()[logp.offset() + n], 2e-5 * Math.abs(ref[n][0]) + 1e-3, what + " logp row " + n);
            for (int j = 0; j + 1 < ref[n].length; j++) {
                double want = ref[n][1 + j];
                assertEquals(want, grad.data()[grad.offset() + n * (ref[n].length - 1) + j], 1e-3 * Math.max(1, Math.abs(want)),
                        what + " d/dz row " + n + " dim " + j);
            }
        }
    }

    private double[][] referenceRows(TanhMlpDecoder dec, Tensor z, Tensor x) {
        int n = z.dim(0), batch = x.dim(0);
        double[][] ref = new double[n][];
        for (int r = 0; r < n; r++) {
            ref[r] = reference(dec, z.row(r).toArray(), x.row(r % batch).toArray());
        }
        return ref;
    }

    @Test
    void autodiffOpsMatchDoublePrecision() {
        TanhMlpDecoder dec = randomDecoder(rnd, WIDTHS);
        int k = 3, batch = 4;
        Tensor z = randn(k, batch, 50);
        Tensor x = binary(batch, 784);
        Var zv = Var.input(z, true);
        Var h = zv;
        for (int l = 0; l < dec.layers(); l++) {
            h = Ops.linear(h, Var.constant(dec.weights().get(l)), Var.constant(dec.biases().get(l)));
            if (l < dec.layers() - 1) {
                h = Ops.tanh(h);
            }
        }
        Var logp = Ops.add(Ops.bernoulliLogProb(h, Var.constant(x)), Ops.standardNormalLogProb(zv));
        Ops.sum(logp).backward();
        assertMatches(referenceRows(dec, z.reshape(-1, 50), x), logp.value().reshape(-1), zv.grad().reshape(-1, 50), "ops");
    }

    @Test
    void fusedKernelMatchesDoublePrecisionOnModelAndAwkwardShapes() {
        int[][] configs = {WIDTHS, {2, 200, 200, 784}, {3, 17, 29, 37}, {5, 11}};
        for (int[] widths : configs) {
            TanhMlpDecoder dec = randomDecoder(rnd, widths);
            int batch = 3, rows = 21;
            Tensor z = randn(rows, widths[0]);
            Tensor x = binary(batch, widths[widths.length - 1]);
            DecoderKernel kernel = Backends.cpu().decoder(dec, 32);
            Tensor logp = Tensor.zeros(rows);
            Tensor grad = Tensor.zeros(rows, widths[0]);
            kernel.logJoint(z, x, logp, grad);
            assertMatches(referenceRows(dec, z, x), logp, grad, "fused " + java.util.Arrays.toString(widths));
            Tensor logpOnly = Tensor.zeros(rows);
            kernel.logJoint(z, x, logpOnly, null);
            assertEquals(logp.get(7), logpOnly.get(7), 0f, "value without gradient is the same value");
            Tensor gradOnly = Tensor.zeros(rows, widths[0]);
            kernel.logJoint(z, x, null, gradOnly);
            org.junit.jupiter.api.Assertions.assertArrayEquals(grad.toArray(), gradOnly.toArray(), "gradient without value is the same gradient");
        }
    }

    @Test
    void fusedKernelSeesWeightUpdatesAfterRefresh() {
        TanhMlpDecoder dec = randomDecoder(rnd, 4, 8, 6);
        DecoderKernel kernel = Backends.cpu().decoder(dec, 8);
        Tensor z = randn(2, 4), x = binary(2, 6), logp = Tensor.zeros(2), grad = Tensor.zeros(2, 4);
        dec.weights().get(0).data()[3] += 0.5f;
        kernel.refresh();
        kernel.logJoint(z, x, logp, grad);
        assertMatches(referenceRows(dec, z, x), logp, grad, "after refresh");
    }

    @Test
    void rejectsShapesThatDoNotFit() {
        TanhMlpDecoder dec = randomDecoder(rnd, 4, 8, 6);
        DecoderKernel kernel = Backends.cpu().decoder(dec, 8);
        assertThrows(IllegalArgumentException.class, () -> kernel.logJoint(randn(9, 4), binary(3, 6), Tensor.zeros(9), null));
        assertThrows(IllegalArgumentException.class, () -> kernel.logJoint(randn(4, 5), binary(2, 6), Tensor.zeros(4), null));
        assertThrows(IllegalArgumentException.class, () -> kernel.logJoint(randn(5, 4), binary(2, 6), Tensor.zeros(5), null));
        assertThrows(IllegalArgumentException.class, () -> kernel.logJoint(randn(4, 4), binary(2, 6), null, null), "neither output asked for");
    }
}
