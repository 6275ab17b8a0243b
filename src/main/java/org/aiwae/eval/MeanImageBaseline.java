package org.aiwae.eval;

import org.aiwae.data.Images;
import org.aiwae.engine.Tensor;

/**
 * The reference a latent-variable model must beat: every pixel an independent Bernoulli at the
 * training images' mean intensity, whatever z. Its log-likelihood is exact (no bound), so a
 * held-out L_K near it means the model ignores its latent code.
 */
public final class MeanImageBaseline {
    private MeanImageBaseline() {}

    /**
     * Mean log-likelihood per image of the binary images {@code x [N, D]} under independent
     * Bernoullis at the mean of {@code train}, each clamped to {@code [1/(2n), 1 - 1/(2n)]} for
     * n training images (a pixel never inked in training then costs about log 2n nats, not infinity).
     */
    public static double logLikelihood(Images train, Tensor x) {
        int n = train.count(), d = train.dim();
        if (x.dim(1) != d) {
            throw new IllegalArgumentException("images have " + x.dim(1) + " pixels, the training images " + d);
        }
        double[] mean = new double[d];
        float[] px = train.pixels();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                mean[j] += px[i * d + j];
            }
        }
        double floor = 0.5 / n;
        double[] logOn = new double[d], logOff = new double[d];
        for (int j = 0; j < d; j++) {
            double p = Math.min(1 - floor, Math.max(floor, mean[j] / n));
            logOn[j] = StrictMath.log(p);
            logOff[j] = StrictMath.log1p(-p);
        }
        float[] xs = x.toArray();
        int rows = x.dim(0);
        double sum = 0;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < d; j++) {
                sum += xs[i * d + j] > 0.5f ? logOn[j] : logOff[j];
            }
        }
        return sum / rows;
    }
}
