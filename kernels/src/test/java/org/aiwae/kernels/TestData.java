package org.aiwae.kernels;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.random.RandomStream;

/** Data the backend tests share (through this module's test jar, also the application's). */
public final class TestData {
    private TestData() {}

    /** Binary images {@code [batch, pixels]} on the host: each pixel 1 with probability {@code ones}, from {@code rng}'s uniforms. */
    public static Tensor binary(RandomStream rng, int batch, int pixels, float ones) {
        Tensor x = rng.uniform(batch, pixels);
        float[] v = x.data();
        for (int i = 0; i < v.length; i++) {
            v[i] = v[i] < ones ? 1 : 0;
        }
        return x;
    }
}
