package org.aiwae.engine.random;

import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.Parallel;

/**
 * A reader of the stream of uniforms and normals that a {@link Key} names, on Philox4x32-10: the key and a
 * position (blocks consumed so far) are its whole state.
 *
 * <p>Block {@code i} of the stream of key {@code (seed, id)} is Philox of counter
 * {@code (lo(i), hi(i), lo(id), hi(id))} and Philox key {@code (lo(seed), hi(seed))}. Each block gives four
 * values ({@link #blockValues}): uniforms {@code (w >>> 8) * 2^-24} in [0, 1), or normals by Box-Muller on word
 * pairs {@code (w0, w1)} and {@code (w2, w3)}. A fill of n values uses {@code ceil(n / 4)} blocks and
 * advances the position by that many, so every backend that follows these rules draws the same
 * numbers, in parallel, from the same (key, position).
 *
 * <p>A stream is a mutable reader; the key is the value to pass around. For independent streams derived from one
 * seed, split or fold a key ({@link Key#stream()} opens the stream a key names).
 */
public final class RandomStream {
    private static final float INV_2_24 = 1f / (1 << 24);
    private static final int PARALLEL_BLOCKS = 2048;

    private final Key key;
    private long position;
    /** Where device draws read the key's words from, or null: they pass them to the kernel. */
    private final Tensor deviceKey;

    /** The stream of the root key of {@code seed} ({@link Key#of}), at position 0. */
    public RandomStream(long seed) {
        this(Key.of(seed), 0);
    }

    /** The stream of key {@code (seed, id)} at {@code position}. */
    public RandomStream(long seed, long id, long position) {
        this(new Key(seed, id), position);
    }

    /** The stream {@code key} names, at {@code position}. */
    public RandomStream(Key key, long position) {
        this(key, position, null);
    }

    private RandomStream(Key key, long position, Tensor deviceKey) {
        this.key = key;
        this.position = position;
        this.deviceKey = deviceKey;
    }

    /**
     * This stream (its own seed, id and position) drawing on a device with the seed and id read from {@code key}
     * ({@link #keyWords()} in device memory) instead of passed to each kernel: the same numbers while key holds
     * this stream's words, and work recorded once draws another stream's numbers when replayed after its words
     * were written there. Host draws are unchanged.
     */
    public RandomStream keyedBy(Tensor key) {
        if (key.size() != 4 || key.onHost()) {
            throw new IllegalArgumentException("a stream key is 4 words in device memory, got " + key);
        }
        return new RandomStream(this.key, position, key);
    }

    /** The key's (seed, id) as four 32-bit words (low then high of each) in the bits of floats, as {@link #keyedBy} reads them. */
    public float[] keyWords() {
        long seed = key.seed(), id = key.id();
        return new float[] {Float.intBitsToFloat((int) seed), Float.intBitsToFloat((int) (seed >>> 32)),
                Float.intBitsToFloat((int) id), Float.intBitsToFloat((int) (id >>> 32))};
    }

    /** The key that names this stream. */
    public Key key() {
        return key;
    }

    /** Blocks consumed so far; with the key this is the whole state. */
    public long position() {
        return position;
    }

    public void seek(long position) {
        this.position = position;
    }

    /** Fills {@code out[off, off+n)} with uniforms in [0, 1). */
    public void uniform(float[] out, int off, int n) {
        fill(out, off, n, false);
    }

    /** Fills {@code out[off, off+n)} with standard normals. */
    public void normal(float[] out, int off, int n) {
        fill(out, off, n, true);
    }

    public Tensor uniform(int... shape) {
        Tensor t = Tensor.zeros(shape);
        uniform(t.data(), 0, t.size());
        return t;
    }

    public Tensor normal(int... shape) {
        Tensor t = Tensor.zeros(shape);
        normal(t.data(), 0, t.size());
        return t;
    }

    /** Uniforms of the given shape in {@code where}'s memory (a device draws them there: nothing is copied). */
    public Tensor uniform(Placement where, int... shape) {
        return where.isHost() ? uniform(shape) : draw(where, false, shape);
    }

    /** Standard normals of the given shape in {@code where}'s memory (a device draws them there: nothing is copied). */
    public Tensor normal(Placement where, int... shape) {
        return where.isHost() ? normal(shape) : draw(where, true, shape);
    }

    /**
     * {@link #normal(Placement, int...)} of {@code normalShape} then {@link #uniform(Placement, int...)} of {@code uniformShape}:
     * the same values; one draw on a device when the stream's key lives there ({@link #keyedBy}).
     */
    public Backend.Draws normalThenUniform(Placement where, int[] normalShape, int[] uniformShape) {
        if (where.isHost() || deviceKey == null || deviceKey.placement() != where) {
            Tensor normals = normal(where, normalShape);
            return new Backend.Draws(normals, uniform(where, uniformShape));
        }
        Backend.Draws d = Backends.of(where).philoxNormalsThenUniforms(deviceKey, position, normalShape, uniformShape);
        position += (d.normals().size() + 3) / 4 + (d.uniforms().size() + 3) / 4;
        return d;
    }

    private Tensor draw(Placement where, boolean normal, int... shape) {
        Backend be = Backends.of(where);
        Tensor t = deviceKey != null && deviceKey.placement() == where ? be.philox(deviceKey, position, normal, shape)
                : be.philox(key.seed(), key.id(), position, normal, shape);
        position += (t.size() + 3) / 4;
        return t;
    }

    private void fill(float[] out, int off, int n, boolean normal) {
        long start = position;
        int blocks = (n + 3) / 4;
        position += blocks;
        long seed = key.seed(), id = key.id();
        Parallel.forRange(blocks, 1, PARALLEL_BLOCKS, (from, to) -> {
            int[] w = new int[4];
            float[] v = new float[4];
            for (int b = from; b < to; b++) {
                blockValues(seed, id, start + b, normal, w, v);
                int base = b * 4;
                for (int j = 0; j < 4 && base + j < n; j++) {
                    out[off + base + j] = v[j];
                }
            }
        });
    }

    /**
     * The four values of block {@code block} of the stream of key {@code (seed, id)} into {@code v[0..3]}: normals
     * by Box-Muller on the word pairs, or uniforms ({@code w} holds the block's words afterwards). Every host draw
     * goes through it ({@link ChainNoise.PerGroup} too); the device kernels compute the same.
     */
    static void blockValues(long seed, long id, long block, boolean normal, int[] w, float[] v) {
        Philox.block((int) block, (int) (block >>> 32), (int) id, (int) (id >>> 32), (int) seed, (int) (seed >>> 32), w, 0);
        if (normal) {
            boxMuller(w[0], w[1], v, 0);
            boxMuller(w[2], w[3], v, 2);
        } else {
            for (int j = 0; j < 4; j++) {
                v[j] = toUniform(w[j]);
            }
        }
    }

    /** The uniform in [0, 1) that a word maps to. */
    public static float toUniform(int word) {
        return (word >>> 8) * INV_2_24;
    }

    /** Two standard normals from two words; the first uniform is taken in (0, 1] so the log is finite. */
    public static void boxMuller(int w0, int w1, float[] out, int off) {
        double u1 = ((w0 >>> 8) + 1) * (double) INV_2_24;
        double u2 = (w1 >>> 8) * (double) INV_2_24;
        double r = Math.sqrt(-2 * StrictMath.log(u1));
        double t = 2 * Math.PI * u2;
        out[off] = (float) (r * StrictMath.cos(t));
        out[off + 1] = (float) (r * StrictMath.sin(t));
    }
}
