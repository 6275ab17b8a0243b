package org.aiwae.engine.math;

/** The Gaussian's constants: log N(z; mu, sigma^2) = -((z - mu) / sigma)^2 / 2 - log sigma - HALF_LOG_2PI per dimension. */
public final class Gaussian {
    /** log(2 pi) / 2, in double (float users cast it: the same float everywhere). */
    public static final double HALF_LOG_2PI = 0.5 * StrictMath.log(2 * StrictMath.PI);

    /**
     * {@code dims log(2 pi) / 2}, the normalising constant of a {@code dims}-dimensional Gaussian with unit variances, as the
     * float product {@code dims * (float) HALF_LOG_2PI} (what the CPU's densities and the kernel body subtract).
     */
    public static float logNormalizer(int dims) {
        return dims * (float) HALF_LOG_2PI;
    }

    private Gaussian() {}
}
