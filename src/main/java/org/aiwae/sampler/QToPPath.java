package org.aiwae.sampler;

/**
 * Shared shape of the paths from q(z|x) to p(x, z): K chains per data point, laid out
 * {@code [K, B]}, so chain n belongs to data point {@code n mod B}.
 */
abstract class QToPPath implements AnnealingPath {
    final int samples;
    final int batch;
    final int latent;

    QToPPath(int samples, int batch, int latent) {
        if (samples < 1 || batch < 1 || latent < 1) {
            throw new IllegalArgumentException("path needs K, B, Z >= 1, got K=" + samples + " B=" + batch + " Z=" + latent);
        }
        this.samples = samples;
        this.batch = batch;
        this.latent = latent;
    }

    @Override
    public final int chains() {
        return samples * batch;
    }

    @Override
    public final int dim() {
        return latent;
    }
}
