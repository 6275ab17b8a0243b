package org.aiwae.engine.math;

/** The Gaussian's constants: log N(z; mu, sigma^2) = -((z - mu) / sigma)^2 / 2 - log sigma - HALF_LOG_2PI per dimension. */
public final class Gaussian {
    /** log(2 pi) / 2, in double (float users cast it: the same float everywhere). */
    public static final double HALF_LOG_2PI = 0.5 * StrictMath.log(2 * StrictMath.PI);

    private Gaussian() {}
}
