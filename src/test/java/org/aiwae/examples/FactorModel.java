package org.aiwae.examples;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.DiagonalGaussian;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.Linear;

/**
 * A user-defined model that is not the paper's MLP: factor analysis, {@code z ~ N(0, I)},
 * {@code x | z ~ N(W z + b, diag(exp(logNoise))^2)}, with a linear Gaussian encoder. Its
 * {@code log p(x)} is known in closed form ({@link #exactLogMarginal}), which makes it the
 * yardstick for AIS and the IWAE bounds. Everything the objectives need comes from autodiff.
 */
public final class FactorModel implements LatentVariableModel {
    final Linear decoder;     // W [D, Z], b [D]
    final Var logNoise;       // [D]
    final Linear encMu;       // [Z, D]
    final Linear encLogSigma; // [Z, D]

    public FactorModel(Linear decoder, Var logNoise, Linear encMu, Linear encLogSigma) {
        this.decoder = decoder;
        this.logNoise = logNoise;
        this.encMu = encMu;
        this.encLogSigma = encLogSigma;
    }

    public static FactorModel random(int data, int latent, RandomStream rng) {
        return new FactorModel(Linear.init("dec", latent, data, rng), Var.param(org.aiwae.engine.Tensor.full(-0.5f, data)),
                Linear.init("enc.mu", data, latent, rng), Linear.init("enc.logsigma", data, latent, rng));
    }

    /** This model with its parameters in {@code where}'s memory (a device backend: its ops then run there). */
    public FactorModel to(org.aiwae.engine.Placement where) {
        org.aiwae.engine.Tensor ln = logNoise.value();
        boolean there = where.isHost() ? ln.onHost() : ln.placement() == where;
        return new FactorModel(decoder.to(where), there ? logNoise : Var.param(ln.to(where)), encMu.to(where), encLogSigma.to(where));
    }

    @Override
    public int latentDim() {
        return decoder.in();
    }

    @Override
    public int dataDim() {
        return decoder.out();
    }

    @Override
    public List<Var> generativeParameters() {
        return List.of(decoder.weight(), decoder.bias(), logNoise);
    }

    @Override
    public List<Var> inferenceParameters() {
        return List.of(encMu.weight(), encMu.bias(), encLogSigma.weight(), encLogSigma.bias());
    }

    @Override
    public Var logJoint(Var x, Var z) {
        return Ops.add(Ops.standardNormalLogProb(z), Ops.gaussianLogProb(x, decoder.apply(z), logNoise));
    }

    @Override
    public DiagonalGaussian posterior(Var x) {
        return new DiagonalGaussian(encMu.apply(x), encLogSigma.apply(x));
    }

    @Override
    public Map<String, Var> namedParameters() {
        Map<String, Var> m = new LinkedHashMap<>();
        for (Linear l : List.of(decoder, encMu, encLogSigma)) {
            m.put(l.name() + ".weight", l.weight());
            m.put(l.name() + ".bias", l.bias());
        }
        m.put("dec.lognoise", logNoise);
        return m;
    }

    /** Draws {@code n} data points from the model. */
    public org.aiwae.engine.Tensor sample(int n, RandomStream rng) {
        org.aiwae.engine.Tensor z = rng.normal(n, latentDim());
        float[] mean = decoder.apply(Var.constant(z)).value().toArray();
        float[] eps = rng.normal(n, dataDim()).toArray();
        float[] ln = logNoise.value().toArray();
        for (int i = 0; i < mean.length; i++) {
            mean[i] += (float) Math.exp(ln[i % dataDim()]) * eps[i];
        }
        return org.aiwae.engine.Tensor.of(mean, n, dataDim());
    }

    /** The exact {@code log p(x)} of each row: {@code log N(x; b, W W^T + diag(noise^2))}, in double. */
    public double[] exactLogMarginal(org.aiwae.engine.Tensor x) {
        int d = dataDim(), z = latentDim();
        float[] w = decoder.weight().value().toArray(), b = decoder.bias().value().toArray(), ln = logNoise.value().toArray();
        double[][] cov = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int k = 0; k < z; k++) {
                    s += (double) w[i * z + k] * w[j * z + k];
                }
                cov[i][j] = s + (i == j ? Math.exp(2.0 * ln[i]) : 0);
            }
        }
        double[][] chol = new double[d][d];
        double logDet = 0;
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                double s = cov[i][j];
                for (int k = 0; k < j; k++) {
                    s -= chol[i][k] * chol[j][k];
                }
                chol[i][j] = i == j ? Math.sqrt(s) : s / chol[j][j];
            }
            logDet += 2 * Math.log(chol[i][i]);
        }
        double[] out = new double[x.dim(0)];
        float[] xs = x.toArray();
        for (int n = 0; n < out.length; n++) {
            double[] y = new double[d]; // solve L y = x - b
            double quad = 0;
            for (int i = 0; i < d; i++) {
                double s = xs[n * d + i] - b[i];
                for (int k = 0; k < i; k++) {
                    s -= chol[i][k] * y[k];
                }
                y[i] = s / chol[i][i];
                quad += y[i] * y[i];
            }
            out[n] = -0.5 * (quad + logDet + d * Math.log(2 * Math.PI));
        }
        return out;
    }
}
