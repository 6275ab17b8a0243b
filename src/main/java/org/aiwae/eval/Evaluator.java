package org.aiwae.eval;

import java.io.PrintStream;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.Posterior;
import org.aiwae.sampler.Annealer;
import org.aiwae.sampler.Schedule;
import org.aiwae.sampler.StepSizes;
import org.aiwae.io.Progress;

/**
 * The paper's evaluation of a trained model on binary images: NLL by AIS (Wu et al.'s protocol:
 * independent chains from q(z|x), evenly spaced inverse temperatures, HMC with adaptive step size
 * toward acceptance 0.6, log p(x) as the log-mean-exp of the chains' weights in double), NVLB =
 * -L_k by streamed importance sampling, and the active units of the encoder.
 *
 * @param chains       AIS chains per image (paper: 16)
 * @param temperatures AIS inverse temperatures (paper: 10,000)
 * @param leapfrog     leapfrog steps per HMC transition (paper: 10)
 * @param nvlbSamples  samples of the NVLB bound (paper: 5,000)
 * @param batch        images per AIS batch
 */
public record Evaluator(int chains, int temperatures, int leapfrog, int nvlbSamples, int batch, Backend backend) {

    public Evaluator {
        if (chains < 1 || temperatures < 2 || leapfrog < 1 || nvlbSamples < 1 || batch < 1) {
            throw new org.aiwae.AiwaeException("evaluation needs chains >= 1, temperatures >= 2, leapfrog >= 1, "
                    + "NVLB samples >= 1, got " + chains + ", " + temperatures + ", " + leapfrog + ", " + nvlbSamples);
        }
    }

    /** The paper's protocol. */
    public static Evaluator paper(Backend backend) {
        return new Evaluator(16, 10_000, 10, 5000, 100, backend);
    }

    /** What an evaluation ran, as recorded in {@code eval.json}. */
    public record Protocol(int nllChains, int nllTemperatures, int nllLeapfrog, double nllStepSizeTargetAcceptance,
                           int nvlbSamples, boolean paperProtocol) {}

    public Protocol protocol() {
        return new Protocol(chains, temperatures, leapfrog, 0.6, nvlbSamples,
                chains == 16 && temperatures == 10_000 && leapfrog == 10 && nvlbSamples == 5000);
    }

    /** log p(x) per image by AIS; {@code log} receives a progress bar. */
    public double[] logLikelihood(LatentVariableModel model, Tensor x, RandomStream rng, PrintStream log, String label) {
        int n = x.dim(0);
        double[] out = new double[n];
        double[] betas = Schedule.linear().betas(temperatures);
        Progress bar = new Progress(log, label, (long) n * (temperatures - 1));
        try (Annealer annealer = new Annealer(model, backend, leapfrog)) {
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch), b = to - from;
                Tensor xb = x.rows(from, to);
                try (NoGrad ignored = NoGrad.enter()) {
                    Posterior q = model.posterior(Var.constant(xb));
                    Tensor z0 = q.sample(rng.normal(chains, b, model.latentDim())).value();
                    long base = (long) from * (temperatures - 1);
                    Annealer.Result r = annealer.run(xb, q, z0, chains, betas, StepSizes.ais(b, 0.05f), rng, (t, info) -> {
                                if (t % 50 == 0) {
                                    bar.update(base + (long) b * t, "");
                                }
                            });
                    for (int i = 0; i < b; i++) {
                        double max = Double.NEGATIVE_INFINITY, sum = 0;
                        for (int c = 0; c < chains; c++) {
                            max = Math.max(max, r.logWeights()[c * b + i]);
                        }
                        for (int c = 0; c < chains; c++) {
                            sum += Math.exp(r.logWeights()[c * b + i] - max);
                        }
                        out[from + i] = max + Math.log(sum / chains);
                    }
                }
            }
        }
        bar.finish((long) n * (temperatures - 1), "");
        return out;
    }

    /** {@code L_k} per image with k = nvlbSamples. */
    public double[] bound(LatentVariableModel model, Tensor x, RandomStream rng) {
        double[] out = new double[x.dim(0)];
        for (int from = 0; from < x.dim(0); from += batch) {
            int to = Math.min(x.dim(0), from + batch);
            double[] b = Bounds.iwae(model, x.rows(from, to), nvlbSamples, 100, rng);
            System.arraycopy(b, 0, out, from, b.length);
        }
        return out;
    }

    /** {@code A_h = Var_x(E_q[h])} per latent dimension (E_q[h] is the encoder mean). */
    public static double[] activity(LatentVariableModel model, Tensor x) {
        int z = model.latentDim(), n = x.dim(0);
        double[] mean = new double[z], sq = new double[z];
        try (NoGrad ignored = NoGrad.enter()) {
            for (int from = 0; from < n; from += 500) {
                Posterior q = model.posterior(Var.constant(x.rows(from, Math.min(n, from + 500))));
                if (!(q instanceof org.aiwae.model.DiagonalGaussian g)) {
                    throw new IllegalArgumentException("active units need a Gaussian posterior");
                }
                float[] mu = g.mu().value().toArray();
                for (int i = 0; i < mu.length; i++) {
                    mean[i % z] += mu[i];
                    sq[i % z] += (double) mu[i] * mu[i];
                }
            }
        }
        double[] a = new double[z];
        for (int h = 0; h < z; h++) {
            double m = mean[h] / n;
            a[h] = sq[h] / n - m * m;
        }
        return a;
    }

    /** Units with {@code A_h > 0.01}, the IWAE study's threshold. */
    public static int activeUnits(double[] activity) {
        int count = 0;
        for (double a : activity) {
            if (a > 1e-2) {
                count++;
            }
        }
        return count;
    }
}
