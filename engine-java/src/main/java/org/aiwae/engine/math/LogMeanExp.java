package org.aiwae.engine.math;

/**
 * log((1/n) sum_i exp(v_i)) in double, accumulated one value at a time: a running maximum m and
 * s = sum_i exp(v_i - m), rescaled when m grows, so no exponential overflows and a stream of any
 * length needs no storage. The result is m + log(s) - log(n): an importance-weighted bound from K
 * log-weights, log p(x) from AIS chains' log-weights. Not finite values propagate (a NaN gives NaN).
 * One accumulator per quantity; it is not thread-safe.
 */
public final class LogMeanExp {
    private double max = Double.NEGATIVE_INFINITY;
    private double sum;
    private long count;

    /** Adds one value. */
    public void add(double v) {
        if (v > max) {
            sum = sum * StrictMath.exp(max - v) + 1;
            max = v;
        } else {
            sum += StrictMath.exp(v - max);
        }
        count++;
    }

    /** log-mean-exp of the values added so far (NaN for none). */
    public double value() {
        return count == 0 ? Double.NaN : max + StrictMath.log(sum) - StrictMath.log(count);
    }

    /** log-mean-exp of {@code values}. */
    public static double of(double[] values) {
        LogMeanExp m = new LogMeanExp();
        for (double v : values) {
            m.add(v);
        }
        return m.value();
    }
}
