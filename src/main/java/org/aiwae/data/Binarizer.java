package org.aiwae.data;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.random.RandomStream;

/**
 * Dynamic binarisation, as in the paper: each time an image is used, each pixel is 1 with
 * probability equal to its intensity.
 */
public final class Binarizer {
    private Binarizer() {}

    /** A fresh binary sample of {@code intensities} drawn from {@code rng}. */
    public static Tensor sample(Tensor intensities, RandomStream rng) {
        Tensor u = rng.uniform(intensities.shape());
        float[] p = intensities.data(), x = u.data();
        int po = intensities.offset();
        for (int i = 0; i < x.length; i++) {
            x[i] = x[i] < p[po + i] ? 1f : 0f;
        }
        return u;
    }
}
