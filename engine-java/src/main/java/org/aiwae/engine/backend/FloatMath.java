package org.aiwae.engine.backend;

import static org.aiwae.engine.backend.Gemm.S;
import static org.aiwae.engine.backend.Gemm.V;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Float32 transcendentals that give the same bits however they run: each function exists twice, as a
 * {@link FloatVector} form and a scalar form, written with the same sequence of operations that IEEE 754 and
 * the Java specification define exactly (add, sub, mul, div, fma, min/max, compare, blend, and bit
 * manipulation of the representation). Nothing here calls {@code Math.exp} and friends or the Vector API's
 * {@code lanewise(EXP/LOG/TANH/...)}, whose results depend on whether the interpreter, C1 or C2 runs them.
 * So the vector and scalar forms agree bit for bit, in every JIT tier, with any vector width.
 *
 * <p>The vector forms work on array ranges: whole vectors, then the scalar form for the last {@code n mod V}
 * elements (no masked loads or stores, which AVX2 hosts execute slowly). One simple loop per step ({@code tanh} is: {@code s = -2|x|},
 * {@code s = exp(s)}, {@code y = tanh from (x, s)}), so no vector value ever crosses a method boundary: C2 then
 * compiles each loop without boxing, whatever it decides to inline. Composite functions take a {@link Scratch}.
 *
 * <p>The polynomials are Cephes' single-precision minimax fits (S. Moshier), with Cody-Waite range reduction;
 * against {@code StrictMath} rounded to float the errors are at most 1 ulp for exp, log, log1p and tanh and 2 ulp
 * for sigmoid and softplus over the whole float range (checked by {@code FloatMathTest}), including
 * subnormal inputs and results, signed zeros, infinities (exp(-inf) = 0, log(0) = -inf, log(-1) = NaN, ...)
 * and NaN, which propagates.
 */
public final class FloatMath {
    private FloatMath() {}

    // exp: x = n ln2 + r, |r| <= ln2 / 2; e^r = 1 + r + r^2 P(r); 2^n applied as two normal factors
    private static final float EXP_LO = -104f;        // exp(-104) < 2^-150: rounds to 0
    private static final float EXP_HI = 89f;          // exp(89) > FLT_MAX: overflows to inf
    private static final float LOG2E = 1.44269504088896341f;
    private static final float MAGIC = 12582912f;      // 1.5 * 2^23: adding it rounds to an integer
    private static final int MAGIC_BITS = 0x4B400000;
    private static final float LN2_HI = 0.693359375f;  // few bits: n * LN2_HI is exact
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f,
            E3 = 4.1665795894e-2f, E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;

    // log: u = 2^e m, m in [sqrt(1/2), sqrt(2)); log(m) = f - f^2/2 + f^3 P(f), f = m - 1
    private static final int SQRT_HALF_BITS = 0x3f3504f3;
    private static final float MIN_NORMAL = 0x1p-126f;
    private static final float TWO_23 = 0x1p23f;
    private static final float L0 = 7.0376836292e-2f, L1 = -1.1514610310e-1f, L2 = 1.1676998740e-1f,
            L3 = -1.2420140846e-1f, L4 = 1.4249322787e-1f, L5 = -1.6668057665e-1f, L6 = 2.0000714765e-1f,
            L7 = -2.4999993993e-1f, L8 = 3.3333331174e-1f;

    // tanh: x + x^3 P(x^2) below 0.625, (1 - e) / (1 + e) with e = exp(-2|x|) above
    private static final float TANH_SMALL = 0.625f;
    private static final float T0 = -5.70498872745e-3f, T1 = 2.06390887954e-2f, T2 = -5.37397155531e-2f,
            T3 = 1.33314422036e-1f, T4 = -3.33332819422e-1f;

    // ---------------------------------------------------------------- scalar forms

    /** e^x. */
    public static float exp(float x) {
        float xc = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float t = Math.fma(xc, LOG2E, MAGIC);
        float n = t - MAGIC;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, E0, E1);
        p = Math.fma(p, r, E2);
        p = Math.fma(p, r, E3);
        p = Math.fma(p, r, E4);
        p = Math.fma(p, r, E5);
        float y = Math.fma(p, r * r, r) + 1f;
        int ni = Float.floatToRawIntBits(t) - MAGIC_BITS;
        int n1 = ni >> 1;
        int n2 = ni - n1;
        return y * Float.intBitsToFloat((n1 + 127) << 23) * Float.intBitsToFloat((n2 + 127) << 23);
    }

    /** Natural logarithm. */
    public static float log(float x) {
        boolean sub = x < MIN_NORMAL;
        float u = sub ? x * TWO_23 : x;
        float bias = sub ? -23f : 0f;
        int ix = Float.floatToRawIntBits(u) - SQRT_HALF_BITS;
        float f = Float.intBitsToFloat((ix & 0x007fffff) + SQRT_HALF_BITS) - 1f;
        float e = Float.intBitsToFloat((ix >> 23) + MAGIC_BITS) - MAGIC + bias;
        float z = f * f;
        float p = Math.fma(f, L0, L1);
        p = Math.fma(p, f, L2);
        p = Math.fma(p, f, L3);
        p = Math.fma(p, f, L4);
        p = Math.fma(p, f, L5);
        p = Math.fma(p, f, L6);
        p = Math.fma(p, f, L7);
        p = Math.fma(p, f, L8);
        float y = f * z * p;
        y = Math.fma(e, LN2_LO, y);
        y = Math.fma(z, -0.5f, y);
        y = Math.fma(e, LN2_HI, f + y);
        y = x == Float.POSITIVE_INFINITY ? x : y;
        y = x == 0f ? Float.NEGATIVE_INFINITY : y;
        y = x < 0f ? Float.NaN : y;
        return x != x ? x : y;
    }

    /** {@code log(1 + x)}, accurate for small x: {@code log(u) + c / u} where {@code u + c = 1 + x} exactly. */
    public static float log1p(float x) {
        float u = 1f + x;
        float bb = u - 1f;
        float c = (1f - (u - bb)) + (x - bb);
        float y = log(u) + c / u;
        y = x == Float.POSITIVE_INFINITY ? x : y;
        y = x == -1f ? Float.NEGATIVE_INFINITY : y;
        return x == 0f ? x : y; // keeps the sign of zero
    }

    /** {@code tanh(x)}. */
    public static float tanh(float x) {
        return tanhFromExp(x, exp(-2f * Math.abs(x)));
    }

    /** {@code 1 / (1 + e^-x)}, as {@code (x >= 0 ? 1 : e) / (1 + e)} with {@code e = e^-|x|}: exact 0 and 1 at the ends. */
    public static float sigmoid(float x) {
        return sigmoidFromExp(x, exp(-Math.abs(x)));
    }

    /** {@code log(1 + e^x)} as {@code max(x, 0) + log1p(e^-|x|)}. */
    public static float softplus(float x) {
        return Math.max(x, 0f) + log1p(exp(-Math.abs(x)));
    }

    /** tanh of x given {@code e = exp(-2|x|)}: {@code x + x^3 P(x^2)} below 0.625, else {@code ±(1 - e) / (1 + e)}. */
    static float tanhFromExp(float x, float e) {
        float z = x * x;
        float p = Math.fma(z, T0, T1);
        p = Math.fma(p, z, T2);
        p = Math.fma(p, z, T3);
        p = Math.fma(p, z, T4);
        float small = Math.fma(x * z, p, x);
        float large = (1f - e) / (1f + e);
        large = x < 0f ? -large : large;
        float y = Math.abs(x) < TANH_SMALL ? small : large;
        return x == 0f ? x : y; // keeps the sign of zero
    }

    /** Sigmoid of x given {@code e = exp(-|x|)}. */
    static float sigmoidFromExp(float x, float e) {
        return (x >= 0f ? 1f : e) / (1f + e);
    }

    // ---------------------------------------------------------------- vector forms over array ranges

    /** Work arrays for the composite functions; any capacity works, the functions go chunk by chunk. */
    public static final class Scratch {
        final float[] a;
        final float[] b;
        final float[] c;

        public Scratch(int capacity) {
            int cap = Math.max(capacity, 1);
            a = new float[cap];
            b = new float[cap];
            c = new float[cap];
        }

        int capacity() {
            return a.length;
        }
    }

    /** {@code y = exp(x)} over n elements; equal bits to {@link #exp(float)}. */
    public static void exp(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += V) {
            FloatVector xc = FloatVector.fromArray(S, x, xo + i).max(EXP_LO).min(EXP_HI);
            FloatVector t = xc.fma(LOG2E, MAGIC);
            FloatVector nf = t.sub(MAGIC);
            FloatVector r = nf.fma(FloatVector.broadcast(S, -LN2_HI), xc);
            r = nf.fma(FloatVector.broadcast(S, -LN2_LO), r);
            FloatVector p = r.fma(E0, E1);
            p = p.fma(r, FloatVector.broadcast(S, E2));
            p = p.fma(r, FloatVector.broadcast(S, E3));
            p = p.fma(r, FloatVector.broadcast(S, E4));
            p = p.fma(r, FloatVector.broadcast(S, E5));
            FloatVector v = p.fma(r.mul(r), r).add(1f);
            IntVector ni = t.reinterpretAsInts().sub(MAGIC_BITS);
            IntVector n1 = ni.lanewise(VectorOperators.ASHR, 1);
            IntVector n2 = ni.sub(n1);
            v = v.mul(n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .mul(n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            v.intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = exp(x[xo + i]);
        }
    }

    /** {@code y = log(x)} over n elements; equal bits to {@link #log(float)}. */
    public static void log(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += V) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + i);
            VectorMask<Float> sub = xv.compare(VectorOperators.LT, MIN_NORMAL);
            FloatVector u = xv.blend(xv.mul(TWO_23), sub);
            FloatVector bias = FloatVector.zero(S).blend(-23f, sub);
            IntVector ix = u.reinterpretAsInts().sub(SQRT_HALF_BITS);
            FloatVector f = ix.and(0x007fffff).add(SQRT_HALF_BITS).reinterpretAsFloats().sub(1f);
            FloatVector e = ix.lanewise(VectorOperators.ASHR, 23).add(MAGIC_BITS).reinterpretAsFloats().sub(MAGIC).add(bias);
            FloatVector z = f.mul(f);
            FloatVector p = f.fma(L0, L1);
            p = p.fma(f, FloatVector.broadcast(S, L2));
            p = p.fma(f, FloatVector.broadcast(S, L3));
            p = p.fma(f, FloatVector.broadcast(S, L4));
            p = p.fma(f, FloatVector.broadcast(S, L5));
            p = p.fma(f, FloatVector.broadcast(S, L6));
            p = p.fma(f, FloatVector.broadcast(S, L7));
            p = p.fma(f, FloatVector.broadcast(S, L8));
            FloatVector v = f.mul(z).mul(p);
            v = e.fma(FloatVector.broadcast(S, LN2_LO), v);
            v = z.fma(FloatVector.broadcast(S, -0.5f), v);
            v = e.fma(FloatVector.broadcast(S, LN2_HI), f.add(v));
            v = v.blend(xv, xv.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
            v = v.blend(Float.NEGATIVE_INFINITY, xv.compare(VectorOperators.EQ, 0f));
            v = v.blend(Float.NaN, xv.compare(VectorOperators.LT, 0f));
            v = v.blend(xv, xv.test(VectorOperators.IS_NAN));
            v.intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = log(x[xo + i]);
        }
    }

    /** {@code y = log1p(x)} over n elements (y may be x); equal bits to {@link #log1p(float)}. */
    public static void log1p(float[] x, int xo, float[] y, int yo, int n, Scratch s) {
        for (int c0 = 0; c0 < n; c0 += s.capacity()) {
            int len = Math.min(s.capacity(), n - c0);
            log1pSplit(x, xo + c0, s.b, s.c, len);
            log(s.b, 0, s.b, 0, len);
            log1pJoin(x, xo + c0, s.b, s.c, y, yo + c0, len);
        }
    }

    /** {@code u = 1 + x} and {@code c / u}, where {@code u + c = 1 + x} exactly. */
    private static void log1pSplit(float[] x, int xo, float[] u, float[] cu, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += V) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + i);
            FloatVector uv = xv.add(1f);
            FloatVector bb = uv.sub(1f);
            FloatVector c = FloatVector.broadcast(S, 1f).sub(uv.sub(bb)).add(xv.sub(bb));
            uv.intoArray(u, i);
            c.div(uv).intoArray(cu, i);
        }
        for (; i < n; i++) {
            float xs = x[xo + i];
            float us = xs + 1f;
            float bb = us - 1f;
            u[i] = us;
            cu[i] = ((1f - (us - bb)) + (xs - bb)) / us;
        }
    }

    private static void log1pJoin(float[] x, int xo, float[] logU, float[] cu, float[] y, int yo, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += V) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + i);
            FloatVector v = FloatVector.fromArray(S, logU, i).add(FloatVector.fromArray(S, cu, i));
            v = v.blend(xv, xv.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
            v = v.blend(Float.NEGATIVE_INFINITY, xv.compare(VectorOperators.EQ, -1f));
            v = v.blend(xv, xv.compare(VectorOperators.EQ, 0f));
            v.intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            float xs = x[xo + i];
            float v = logU[i] + cu[i];
            v = xs == Float.POSITIVE_INFINITY ? xs : v;
            v = xs == -1f ? Float.NEGATIVE_INFINITY : v;
            y[yo + i] = xs == 0f ? xs : v;
        }
    }

    /** {@code y = tanh(x)} over n elements (y may be x); equal bits to {@link #tanh(float)}. */
    public static void tanh(float[] x, int xo, float[] y, int yo, int n, Scratch s) {
        for (int c0 = 0; c0 < n; c0 += s.capacity()) {
            int len = Math.min(s.capacity(), n - c0);
            scaledNegAbs(x, xo + c0, -2f, s.a, len);
            exp(s.a, 0, s.a, 0, len);
            tanhFromExp(x, xo + c0, s.a, y, yo + c0, len);
        }
    }

    /** {@code y = sigmoid(x)} over n elements (y may be x); equal bits to {@link #sigmoid(float)}. */
    public static void sigmoid(float[] x, int xo, float[] y, int yo, int n, Scratch s) {
        for (int c0 = 0; c0 < n; c0 += s.capacity()) {
            int len = Math.min(s.capacity(), n - c0);
            scaledNegAbs(x, xo + c0, -1f, s.a, len);
            exp(s.a, 0, s.a, 0, len);
            sigmoidFromExp(x, xo + c0, s.a, 0, y, yo + c0, len);
        }
    }

    /** {@code y = softplus(x)} over n elements (y may be x); equal bits to {@link #softplus(float)}. */
    public static void softplus(float[] x, int xo, float[] y, int yo, int n, Scratch s) {
        for (int c0 = 0; c0 < n; c0 += s.capacity()) {
            int len = Math.min(s.capacity(), n - c0);
            scaledNegAbs(x, xo + c0, -1f, s.a, len);
            exp(s.a, 0, s.a, 0, len);
            softplusFromExp(x, xo + c0, s.a, 0, y, yo + c0, len, s);
        }
    }

    /**
     * {@code y = softplus(x)} given {@code e = exp(-|x|)} (y may be x; e must not be s's arrays b or c):
     * {@code max(x, 0) + log1p(e)}.
     */
    public static void softplusFromExp(float[] x, int xo, float[] e, int eo, float[] y, int yo, int n, Scratch s) {
        for (int c0 = 0; c0 < n; c0 += s.capacity()) {
            int len = Math.min(s.capacity(), n - c0);
            log1pSplit(e, eo + c0, s.b, s.c, len);
            log(s.b, 0, s.b, 0, len);
            log1pJoin(e, eo + c0, s.b, s.c, s.c, 0, len);
            int i = 0;
            for (int end = S.loopBound(len); i < end; i += V) {
                FloatVector.fromArray(S, x, xo + c0 + i).max(0f).add(FloatVector.fromArray(S, s.c, i))
                        .intoArray(y, yo + c0 + i);
            }
            for (; i < len; i++) {
                y[yo + c0 + i] = Math.max(x[xo + c0 + i], 0f) + s.c[i];
            }
        }
    }

    /** {@code y = sigmoid(x)} given {@code e = exp(-|x|)} (y may be x or e). */
    public static void sigmoidFromExp(float[] x, int xo, float[] e, int eo, float[] y, int yo, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += V) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + i);
            FloatVector ev = FloatVector.fromArray(S, e, eo + i);
            ev.blend(1f, xv.compare(VectorOperators.GE, 0f)).div(FloatVector.broadcast(S, 1f).add(ev))
                    .intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = sigmoidFromExp(x[xo + i], e[eo + i]);
        }
    }

    /** {@code y = k |x|} for a negative k. */
    public static void scaledNegAbs(float[] x, int xo, float k, float[] y, int yo, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += V) {
            FloatVector.fromArray(S, x, xo + i).abs().mul(k).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = Math.abs(x[xo + i]) * k;
        }
    }

    private static void scaledNegAbs(float[] x, int xo, float k, float[] y, int n) {
        scaledNegAbs(x, xo, k, y, 0, n);
    }

    private static void tanhFromExp(float[] x, int xo, float[] e, float[] y, int yo, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += V) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + i);
            FloatVector ev = FloatVector.fromArray(S, e, i);
            FloatVector z = xv.mul(xv);
            FloatVector p = z.fma(T0, T1);
            p = p.fma(z, FloatVector.broadcast(S, T2));
            p = p.fma(z, FloatVector.broadcast(S, T3));
            p = p.fma(z, FloatVector.broadcast(S, T4));
            FloatVector small = xv.mul(z).fma(p, xv);
            FloatVector large = FloatVector.broadcast(S, 1f).sub(ev).div(FloatVector.broadcast(S, 1f).add(ev));
            large = large.blend(large.neg(), xv.compare(VectorOperators.LT, 0f));
            FloatVector v = large.blend(small, xv.abs().compare(VectorOperators.LT, TANH_SMALL));
            v.blend(xv, xv.compare(VectorOperators.EQ, 0f)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = tanhFromExp(x[xo + i], e[i]);
        }
    }
}
