package org.aiwae.eval;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import java.util.function.IntFunction;
import org.aiwae.engine.math.LogMeanExp;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.Posterior;

/**
 * Importance-weighted bounds {@code L_k = log (1/k) sum_i p(x, z_i) / q(z_i|x)} per data point.
 * Samples are streamed in chunks and combined by a running log-sum-exp in double precision, so
 * k = 5,000 never holds more than one chunk of decoder outputs.
 */
public final class Bounds {
    private Bounds() {}

    /** {@code L_k} for each row of the binary batch {@code x [B, D]}. */
    public static double[] iwae(LatentVariableModel model, Tensor x, int k, int chunk, RandomStream rng) {
        return iwae(model, x, k, chunk, c -> rng.normal(x.placement(), c, x.dim(0), model.latentDim()));
    }

    /**
     * {@code L_k} for each row of {@code x}, row b's samples drawn from group b of {@code noise} only
     * (one stream per data point: a row's bound does not depend on the rest of the batch).
     */
    public static double[] iwae(LatentVariableModel model, Tensor x, int k, int chunk, ChainNoise.PerGroup noise) {
        if (noise.groups() != x.dim(0)) {
            throw new IllegalArgumentException(noise.groups() + " random streams for " + x.dim(0) + " rows");
        }
        return iwae(model, x, k, chunk, c -> noise.normal(c, model.latentDim()).to(x.placement()));
    }

    /** {@code normals.apply(c)} gives c standard normal draws per row, {@code [c, B, Z]}. */
    private static double[] iwae(LatentVariableModel model, Tensor x, int k, int chunk, IntFunction<Tensor> normals) {
        if (k < 1 || chunk < 1) {
            throw new IllegalArgumentException("bound needs k >= 1 and chunk >= 1, got k=" + k + " chunk=" + chunk);
        }
        int batch = x.dim(0);
        LogMeanExp[] bound = new LogMeanExp[batch];
        java.util.Arrays.setAll(bound, b -> new LogMeanExp());
        try (NoGrad ignored = NoGrad.enter()) {
            Var xv = Var.constant(x);
            Posterior q = model.posterior(xv);
            for (int done = 0, c; done < k; done += c) { // += c: ends at k exactly, never past Integer.MAX_VALUE
                c = Math.min(chunk, k - done);
                Var z = q.sample(normals.apply(c));
                float[] lw = Ops.sub(model.logJoint(xv, z), q.logProb(z)).value().toArray();
                for (int i = 0; i < c; i++) {
                    for (int b = 0; b < batch; b++) {
                        bound[b].add(lw[i * batch + b]);
                    }
                }
            }
        }
        double[] out = new double[batch];
        for (int b = 0; b < batch; b++) {
            out[b] = bound[b].value();
        }
        return out;
    }
}
