package org.aiwae.engine.backend;

import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Prints a SHA-256 of the bits that {@link FloatMath}'s vector and scalar forms and {@link VectorMath#sum}
 * give on a fixed set of inputs, after {@code args[0]} warm-up rounds: {@code FloatMathTest} runs it in JVMs
 * that differ in JIT tier and compares the digests.
 */
public final class FloatMathDigest {
    private FloatMathDigest() {}

    /** Edge cases, then {@code n} bit patterns spread over the whole float range. */
    static float[] inputs(int n) {
        float[] edges = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL, Float.MAX_VALUE,
            -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1f, -1f, 2f, -2f, 0.5f, -0.5f,
            0.625f, -0.625f, Math.nextDown(0.625f), 88.72283f, 88.72284f, 89f, -87.33655f, -103.97208f, -104f, 1e-30f,
            -1e-30f, 1e-7f, -1e-7f, Math.nextDown(-1f), Math.nextUp(-1f), 0x1p24f, 0x1p-24f, 0x1p-126f, 0x1p-149f,
            16f, -16f, 44f, -44f, 9f, -9f};
        float[] x = new float[edges.length + n];
        System.arraycopy(edges, 0, x, 0, edges.length);
        long step = (1L << 32) / n;
        for (int i = 0; i < n; i++) {
            x[edges.length + i] = Float.intBitsToFloat((int) (i * step + (i * 7919L) % step));
        }
        return x;
    }

    /** {@code y = f(x)} by the vector form of f (0 exp, 1 log, 2 log1p, 3 tanh, 4 sigmoid, 5 softplus). */
    static void vector(int f, float[] x, float[] y) {
        FloatMath.Scratch s = new FloatMath.Scratch(300); // not a multiple of the vector width: chunks end mid-vector
        switch (f) {
            case 0 -> FloatMath.exp(x, 0, y, 0, x.length);
            case 1 -> FloatMath.log(x, 0, y, 0, x.length);
            case 2 -> FloatMath.log1p(x, 0, y, 0, x.length, s);
            case 3 -> FloatMath.tanh(x, 0, y, 0, x.length, s);
            case 4 -> FloatMath.sigmoid(x, 0, y, 0, x.length, s);
            default -> FloatMath.softplus(x, 0, y, 0, x.length, s);
        }
    }

    /** The scalar form of the same function. */
    static float scalar(int f, float x) {
        return switch (f) {
            case 0 -> FloatMath.exp(x);
            case 1 -> FloatMath.log(x);
            case 2 -> FloatMath.log1p(x);
            case 3 -> FloatMath.tanh(x);
            case 4 -> FloatMath.sigmoid(x);
            default -> FloatMath.softplus(x);
        };
    }

    /** Bits with every NaN made the canonical NaN. */
    static int bits(float v) {
        return Float.floatToIntBits(v);
    }

    static String digest(float[] x, int warmup) throws Exception {
        float[] y = new float[x.length];
        for (int w = 0; w < warmup; w++) {
            for (int f = 0; f < 6; f++) {
                vector(f, x, y);
                for (int i = 0; i < x.length; i++) {
                    y[i] = scalar(f, x[i]);
                }
            }
            VectorMath.sum(x, 11, x.length - 11);
        }
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (int f = 0; f < 6; f++) {
            vector(f, x, y);
            for (int i = 0; i < x.length; i++) {
                update(md, bits(y[i]));
                update(md, bits(scalar(f, x[i])));
            }
        }
        float[] finite = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            finite[i] = Float.isFinite(x[i]) ? Math.clamp(x[i], -1e30f, 1e30f) : 1f;
        }
        for (int off = 0; off < 20; off++) {
            long s = Double.doubleToLongBits(VectorMath.sum(finite, off, finite.length - 3 * off));
            update(md, (int) s);
            update(md, (int) (s >>> 32));
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void update(MessageDigest md, int v) {
        md.update((byte) v);
        md.update((byte) (v >>> 8));
        md.update((byte) (v >>> 16));
        md.update((byte) (v >>> 24));
    }

    public static void main(String[] args) throws Exception {
        System.out.println(digest(inputs(Integer.parseInt(args[1])), Integer.parseInt(args[0])));
    }
}
