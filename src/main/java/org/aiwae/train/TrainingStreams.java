package org.aiwae.train;

import org.aiwae.engine.random.Key;
import org.aiwae.engine.random.RandomStream;

/**
 * Names the random streams of a training run: each (purpose, epoch, batch, attempt) has its own {@link Key} of
 * the run's seed, so nothing but the epoch number is needed to resume bit for bit. The key's id packs them:
 * {@code purpose << 56 | attempt << 52 | epoch << 28 | batch} (evaluation's streams use purpose 7).
 */
public final class TrainingStreams {
    public static final int INIT = 1;
    public static final int SHUFFLE = 2;
    public static final int BINARIZE = 3;
    public static final int STEP = 4;
    public static final int EVAL_DATA = 5;
    public static final int EVAL = 6;

    private TrainingStreams() {}

    public static RandomStream of(long seed, int purpose, int epoch, int batch) {
        return of(seed, purpose, epoch, batch, 0);
    }

    /**
     * The stream of attempt {@code attempt} (0-15) at an epoch: after a divergence the epoch is
     * retrained from the last good checkpoint with fresh streams. Attempt 0 is the stream above.
     */
    public static RandomStream of(long seed, int purpose, int epoch, int batch, int attempt) {
        return key(seed, purpose, epoch, batch, attempt).stream();
    }

    /** The key of {@link #of(long, int, int, int, int)}'s stream. */
    public static Key key(long seed, int purpose, int epoch, int batch, int attempt) {
        if (attempt < 0 || attempt > 15 || epoch < 0 || epoch >= 1 << 24 || batch < 0 || batch >= 1 << 28) {
            throw new IllegalArgumentException("stream out of range: epoch " + epoch + ", batch " + batch + ", attempt " + attempt);
        }
        return new Key(seed, ((long) purpose << 56) | ((long) attempt << 52) | ((long) epoch << 28) | batch);
    }

    /** A uniformly random permutation of [0, n) by Fisher-Yates on the stream. */
    public static int[] permutation(int n, RandomStream rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        float[] u = new float[Math.max(n, 1)];
        rng.uniform(u, 0, n);
        for (int i = n - 1; i > 0; i--) {
            int j = Math.min(i, (int) (u[i] * (i + 1)));
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
