package org.aiwae.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import org.aiwae.engine.Tensor;

/**
 * The backend tests' one comparison to float rounding (through this module's test jar, also the application's): each
 * value within {@code tol (1 + |expected|)} of the reference, or the same float (a NaN where the reference has one,
 * the same infinity).
 */
public final class Close {
    private Close() {}

    /** {@code actual} equals {@code expected} element by element to {@code tol (1 + |expected|)}; {@code what} names the case. */
    public static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double t = tol * (1 + Math.abs(expected[i]));
            if (!(Math.abs((double) expected[i] - actual[i]) <= t || Float.compare(expected[i], actual[i]) == 0)) { // the message only on failure
                fail(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i] + " (tolerance " + t + ")");
            }
        }
    }

    /** {@link #assertClose(float[], float[], double, String)} of two tensors on any placement, read back to the host. */
    public static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        assertClose(expected.toArray(), actual.toArray(), tol, what);
    }
}
