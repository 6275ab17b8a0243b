package org.aiwae.plot;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.math.LogMeanExp;
import org.aiwae.model.LatentVariableModel;

/**
 * The unnormalised posterior {@code p(x, z)} of a 2-d latent model on a square grid around its
 * mass: a coarse pass over {@code [-range, range]^2} finds the posterior's mean and spread, and the
 * fine grid spans the mean +- 4 standard deviations of the wider axis.
 *
 * @param logJoint {@code log p(x, z)} at the grid points, row-major, row 0 at the largest z2
 * @param size     points per side
 * @param z1       the first latent's grid values (columns)
 * @param z2       the second latent's grid values (rows, top to bottom)
 */
public record PosteriorGrid(double[] logJoint, int size, double[] z1, double[] z2) {
    /** Grid points per call of the model: a [CHUNK, 784] decoder output is about 13 MB. */
    static final int CHUNK = 4096;

    /** The grid for one data point {@code x [1, D]}. */
    public static PosteriorGrid of(LatentVariableModel model, Tensor x, int size) {
        if (model.latentDim() != 2) {
            throw new IllegalArgumentException("posterior grids need a 2-d latent, the model has " + model.latentDim());
        }
        double range = 6;
        PosteriorGrid coarse = evaluate(model, x, 80, 0, 0, range);
        double[] w = coarse.weights();
        double m1 = 0, m2 = 0, s1 = 0, s2 = 0;
        for (int r = 0; r < coarse.size; r++) {
            for (int c = 0; c < coarse.size; c++) {
                double p = w[r * coarse.size + c];
                m1 += p * coarse.z1[c];
                m2 += p * coarse.z2[r];
                s1 += p * coarse.z1[c] * coarse.z1[c];
                s2 += p * coarse.z2[r] * coarse.z2[r];
            }
        }
        double sd = Math.sqrt(Math.max(Math.max(s1 - m1 * m1, s2 - m2 * m2), 0));
        double half = Math.max(4 * sd, 0.1);
        return evaluate(model, x, size, m1, m2, half);
    }

    private static PosteriorGrid evaluate(LatentVariableModel model, Tensor x, int size, double c1, double c2, double half) {
        double[] z1 = new double[size], z2 = new double[size];
        for (int i = 0; i < size; i++) {
            double u = -half + (i + 0.5) * 2 * half / size;
            z1[i] = c1 + u;
            z2[size - 1 - i] = c2 + u;
        }
        // evaluated in tiles of CHUNK points, so memory stays bounded whatever the panel size
        double[] out = new double[size * size];
        float[] z = new float[Math.min(CHUNK, out.length) * 2];
        Var xc = Var.constant(x);
        for (int from = 0; from < out.length; from += CHUNK) {
            int n = Math.min(CHUNK, out.length - from);
            for (int k = 0; k < n; k++) {
                int r = (from + k) / size, c = (from + k) % size;
                z[k * 2] = (float) z1[c];
                z[k * 2 + 1] = (float) z2[r];
            }
            float[] lp;
            try (NoGrad ignored = NoGrad.enter()) {
                Tensor zt = Tensor.of(n == CHUNK ? z : java.util.Arrays.copyOf(z, n * 2), n, 1, 2);
                lp = model.logJoint(xc, Var.constant(zt)).value().toArray();
            }
            for (int k = 0; k < n; k++) {
                out[from + k] = lp[k];
            }
        }
        return new PosteriorGrid(out, size, z1, z2);
    }

    /** The normalised posterior weights of the grid cells (summing to 1). */
    public double[] weights() {
        double logZ = LogMeanExp.of(logJoint) + StrictMath.log(logJoint.length); // log sum_i exp(logJoint_i)
        double[] w = new double[logJoint.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = StrictMath.exp(logJoint[i] - logZ);
        }
        return w;
    }
}
