package org.aiwae.eval;

import java.util.Arrays;
import java.util.Map;
import java.util.function.LongConsumer;
import org.aiwae.data.Binarizer;
import org.aiwae.data.Images;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.math.LogMeanExp;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.model.Annealer;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.Posterior;
import org.aiwae.sampler.Schedule;
import org.aiwae.sampler.StepSizes;

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
 * @param graphs       on a device, record one AIS temperature per batch and replay it for the others (the same bits)
 */
public record Evaluator(int chains, int temperatures, int leapfrog, int nvlbSamples, int batch, Backend backend, boolean graphs) {

    public Evaluator {
        if (chains < 1 || temperatures < 2 || leapfrog < 1 || nvlbSamples < 1 || batch < 1) {
            // a programming error here: the command line checks each flag first and names it
            throw new IllegalArgumentException("evaluation needs chains >= 1, temperatures >= 2, leapfrog >= 1, "
                    + "NVLB samples >= 1, batch >= 1, got " + chains + ", " + temperatures + ", " + leapfrog + ", " + nvlbSamples
                    + ", " + batch);
        }
    }

    /** With graphs on (they change nothing but the device's work). */
    public Evaluator(int chains, int temperatures, int leapfrog, int nvlbSamples, int batch, Backend backend) {
        this(chains, temperatures, leapfrog, nvlbSamples, batch, backend, true);
    }

    /** The same evaluation, recording the AIS temperatures on a device or not. */
    public Evaluator withGraphs(boolean on) {
        return new Evaluator(chains, temperatures, leapfrog, nvlbSamples, batch, backend, on);
    }

    /** The paper's protocol. */
    public static Evaluator paper(Backend backend) {
        return new Evaluator(16, 10_000, 10, 5000, 100, backend);
    }

    /**
     * What an evaluation ran, as recorded in {@code eval.json} and in the header of the per-image files.
     *
     * @param nvlbChunk     samples per chunk of the streamed NVLB (it fixes how an image's stream is read)
     * @param randomStreams how the random numbers are assigned (per image since format 2)
     */
    public record Protocol(int nllChains, int nllTemperatures, int nllLeapfrog, double nllStepSizeTargetAcceptance,
                           int nvlbSamples, int nvlbChunk, String randomStreams, boolean paperProtocol) {}

    public Protocol protocol() {
        return new Protocol(chains, temperatures, leapfrog, 0.6, nvlbSamples, NVLB_CHUNK, "per image: (seed, split, image, phase)",
                chains == 16 && temperatures == 10_000 && leapfrog == 10 && nvlbSamples == 5000);
    }

    /** Samples per chunk of the streamed NVLB bound (part of the protocol: it fixes how the streams are read). */
    public static final int NVLB_CHUNK = 100;

    /**
     * log p(x) per row of {@code x} by AIS. Row r is image {@code images[r]} of the split that
     * {@code streams} names: its chains start from and move with that image's own stream only, so the
     * result does not depend on the other rows. {@code progress} (may be null) receives the number of
     * image-temperatures done so far in this call.
     */
    public double[] logLikelihood(LatentVariableModel model, Tensor x, ImageStreams streams, int[] images, LongConsumer progress) {
        int n = x.dim(0);
        check(n, images);
        double[] out = new double[n];
        double[] betas = Schedule.linear().betas(temperatures);
        LatentVariableModel m = model.to(backend);
        try (Annealer annealer = new Annealer(m, leapfrog).graphs(graphs)) {
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch), b = to - from;
                Tensor xb = x.rows(from, to).to(backend);
                ChainNoise.PerGroup noise = streams.group(ImageStreams.Phase.AIS, Arrays.copyOfRange(images, from, to));
                try (NoGrad ignored = NoGrad.enter()) {
                    Posterior q = m.posterior(Var.constant(xb));
                    Tensor z0 = q.sample(noise.normal(xb.placement(), chains, m.latentDim())).value();
                    long base = (long) from * (temperatures - 1);
                    double[] logw = annealer.run(xb, q, z0, chains, betas, StepSizes.ais(b, 0.05f), noise,
                            progress == null ? null : (t, acceptance) -> progress.accept(base + (long) b * t)).state().logWeights();
                    for (int i = 0; i < b; i++) {
                        LogMeanExp px = new LogMeanExp();
                        for (int c = 0; c < chains; c++) {
                            px.add(logw[c * b + i]);
                        }
                        out[from + i] = px.value();
                    }
                }
            }
        }
        return out;
    }

    /** log p(x) of rows that are images 0..n-1 of data with {@code new ImageStreams(seed, 0)}. */
    public double[] logLikelihood(LatentVariableModel model, Tensor x, long seed) {
        return logLikelihood(model, x, new ImageStreams(seed, 0), range(x.dim(0)), null);
    }

    /** {@code L_k} per row with k = nvlbSamples; row r draws from image {@code images[r]}'s NVLB stream only. */
    public double[] bound(LatentVariableModel model, Tensor x, ImageStreams streams, int[] images) {
        check(x.dim(0), images);
        double[] out = new double[x.dim(0)];
        for (int from = 0; from < x.dim(0); from += batch) {
            int to = Math.min(x.dim(0), from + batch);
            double[] b = Bounds.iwae(model, x.rows(from, to), nvlbSamples, NVLB_CHUNK,
                    streams.group(ImageStreams.Phase.NVLB, Arrays.copyOfRange(images, from, to)));
            System.arraycopy(b, 0, out, from, b.length);
        }
        return out;
    }

    /** {@code L_k} of rows that are images 0..n-1 of data with {@code new ImageStreams(seed, 0)}. */
    public double[] bound(LatentVariableModel model, Tensor x, long seed) {
        return bound(model, x, new ImageStreams(seed, 0), range(x.dim(0)));
    }

    /** A binary sample of the listed images, image i drawn from its own binarisation stream: {@code [indices.length, D]}. */
    public static Tensor binarize(Images images, int[] indices, ImageStreams streams) {
        int d = images.dim();
        Tensor out = Tensor.zeros(indices.length, d);
        for (int r = 0; r < indices.length; r++) {
            int i = indices[r];
            Tensor row = Binarizer.sample(images.slice(i, i + 1), streams.stream(ImageStreams.Phase.BINARIZE, i));
            System.arraycopy(row.data(), row.offset(), out.data(), r * d, d);
        }
        return out;
    }

    private static void check(int rows, int[] images) {
        if (images.length != rows) {
            throw new IllegalArgumentException(images.length + " image indices for " + rows + " rows");
        }
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
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

    /** SHA-256 (hex) of the model's parameters: names, shapes and float32 values, in name order. */
    public static String fingerprint(LatentVariableModel model) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, Var> e : new java.util.TreeMap<>(model.namedParameters()).entrySet()) {
                Tensor t = e.getValue().value();
                md.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * (t.rank() + t.size()));
                for (int d : t.shape()) {
                    b.putInt(d);
                }
                float[] v = t.data();
                for (int i = 0; i < t.size(); i++) {
                    b.putInt(Float.floatToRawIntBits(v[t.offset() + i]));
                }
                md.update(b.array());
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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
