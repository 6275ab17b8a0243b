package org.aiwae.engine.random;

import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;

/**
 * An immutable random key, as in JAX, BlackJAX and NumPyro: a value that names one stream of random
 * numbers, split into child keys instead of being advanced. Whoever needs randomness takes a key
 * and splits it for the parts of its work; a key used twice draws the same numbers twice.
 *
 * <p>The key's words are a Philox4x32-10 key ({@code seed}) and the high half of its counter
 * ({@code id}), exactly the {@link RandomStream} {@code (seed, id)} that {@link #stream()} opens.
 * Child {@code i} of {@link #split} and {@link #fold} is Philox under this key's {@code seed} of the
 * counter {@code (i, domain, lo(id), hi(id))}, its four output words being the child's
 * {@code (seed, id)}; the domain word is {@value #SPLIT} for split and {@value #FOLD} for fold.
 * For a fixed Philox key the block function is a bijection of the 128-bit counter, so all children
 * of one key (split or folded, whatever their index) have different words: they are different
 * streams, not different positions of one stream. The domain words are at or above {@code 2^31}, so
 * a derivation never reads a block that the key's own stream draws (that would take 2^63 blocks).
 */
public record Key(long seed, long id) {
    /** The counter word that marks {@link #split} children. */
    public static final int SPLIT = 0x80000001;
    /** The counter word that marks {@link #fold} children. */
    public static final int FOLD = 0x80000002;

    /** The root key of a seed. */
    public static Key of(long seed) {
        return new Key(seed, 0);
    }

    /** {@code n} child keys; child i does not depend on n ({@code split(2)[1]} is {@code split(5)[1]}). */
    public Key[] split(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("split needs n >= 1, got " + n);
        }
        Key[] out = new Key[n];
        for (int i = 0; i < n; i++) {
            out[i] = child(i, SPLIT);
        }
        return out;
    }

    /** The child key for {@code data} (a step number, a chain, a data point), as JAX's {@code fold_in}. */
    public Key fold(int data) {
        return child(data, FOLD);
    }

    private Key child(int index, int domain) {
        int[] w = new int[4];
        Philox.block(index, domain, (int) id, (int) (id >>> 32), (int) seed, (int) (seed >>> 32), w, 0);
        return new Key(words(w[0], w[1]), words(w[2], w[3]));
    }

    private static long words(int lo, int hi) {
        return (lo & 0xFFFFFFFFL) | ((long) hi << 32);
    }

    /** The stream this key names, at position 0 (a fresh, mutable reader each call). */
    public RandomStream stream() {
        return new RandomStream(this, 0);
    }

    /** Standard normals of {@code shape} in {@code where}'s memory: the first values of {@link #stream()}. */
    public Tensor normal(Placement where, int... shape) {
        return stream().normal(where, shape);
    }

    /** Uniforms in [0, 1) of {@code shape} in {@code where}'s memory: the first values of {@link #stream()}. */
    public Tensor uniform(Placement where, int... shape) {
        return stream().uniform(where, shape);
    }

    @Override
    public String toString() {
        return String.format("Key[%016x, %016x]", seed, id);
    }
}
