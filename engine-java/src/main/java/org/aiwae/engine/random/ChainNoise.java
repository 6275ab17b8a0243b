package org.aiwae.engine.random;

import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.Parallel;

/**
 * Where the N = K * B chains of an annealing run, laid out {@code [K, B]} (chain n belongs to data
 * point {@code n mod B}), draw their random numbers at each HMC transition: N * Z standard normals
 * for the momenta, then N uniforms for the Metropolis tests.
 *
 * <ul>
 *   <li>{@link Shared}: one stream for every chain, in chain order (training: a stream per minibatch).</li>
 *   <li>{@link PerGroup}: the chains of data point b draw only from the stream of key b, so what
 *       happens to one data point does not depend on which other points share its batch, or where
 *       it sits in the batch (evaluation: a stream per image, for resumable and sharded runs).</li>
 * </ul>
 */
public sealed interface ChainNoise permits ChainNoise.Shared, ChainNoise.PerGroup {

    /** The momenta of one transition, {@code [chains, dim]} standard normals in {@code where}'s memory. */
    Tensor momenta(Placement where, int chains, int dim);

    /** The Metropolis uniforms of one transition, {@code [chains]}, in {@code where}'s memory. */
    Tensor uniforms(Placement where, int chains);

    /** One transition's momenta {@code [chains, dim]} then uniforms {@code [chains]}: {@link #momenta} then {@link #uniforms}. */
    default Backend.Draws transition(Placement where, int chains, int dim) {
        Tensor momenta = momenta(where, chains, dim);
        return new Backend.Draws(momenta, uniforms(where, chains));
    }

    /** One stream, consumed in chain order: N*Z normals then N uniforms per transition. */
    record Shared(RandomStream stream) implements ChainNoise {
        /** The same values as the default; one device draw where the stream's key lives on the device. */
        @Override
        public Backend.Draws transition(Placement where, int chains, int dim) {
            return stream.normalThenUniform(where, new int[] {chains, dim}, new int[] {chains});
        }

        @Override
        public Tensor momenta(Placement where, int chains, int dim) {
            return stream.normal(where, chains, dim);
        }

        @Override
        public Tensor uniforms(Placement where, int chains) {
            return stream.uniform(where, chains);
        }
    }

    /**
     * One stream per data point (group), all at the same position: the streams of keys {@code (seed, ids[g])}
     * that share their seed (the Philox key; the ids are the counters' high halves), so a device draws them
     * all in one launch. A draw of {@code per x dim}
     * values per group, laid out {@code [per, groups, dim]}, takes group g's values from blocks
     * {@code position .. position + blocks(per * dim) - 1} of stream {@code (seed, ids[g])} in
     * row-major {@code [per, dim]} order, and advances the common position by that many blocks.
     * A transition of K chains per group is {@code normal(K, Z)} then {@code uniform(K, 1)}.
     */
    final class PerGroup implements ChainNoise {
        private final long seed;
        private final long[] ids;
        private long position;

        public PerGroup(long seed, long[] ids, long position) {
            if (ids.length == 0) {
                throw new IllegalArgumentException("PerGroup needs at least one group");
            }
            this.seed = seed;
            this.ids = ids.clone();
            this.position = position;
        }

        /** The streams of {@code keys} (one per group, all of one seed) at position 0. */
        public static PerGroup of(Key... keys) {
            long[] ids = new long[keys.length];
            for (int g = 0; g < keys.length; g++) {
                if (keys[g].seed() != keys[0].seed()) {
                    throw new IllegalArgumentException("PerGroup: the keys must share their seed, key " + g + " is " + keys[g]
                            + ", key 0 " + keys[0]);
                }
                ids[g] = keys[g].id();
            }
            return new PerGroup(keys.length == 0 ? 0 : keys[0].seed(), ids, 0);
        }

        public long seed() {
            return seed;
        }

        public int groups() {
            return ids.length;
        }

        /** The stream id of group g. */
        public long id(int g) {
            return ids[g];
        }

        /** The common position (blocks consumed by every group's stream). */
        public long position() {
            return position;
        }

        /** Advances every group's stream by {@code blocks} (a device drew them). */
        public void skip(long blocks) {
            position += blocks;
        }

        /** Philox blocks a draw of n values per group takes. */
        public static int blocks(int n) {
            return (n + 3) / 4;
        }

        /** {@code per * dim} standard normals per group as a {@code [per, groups, dim]} tensor. */
        public Tensor normal(int per, int dim) {
            return draw(Placement.HOST, per, dim, true);
        }

        /** The same in {@code where}'s memory (a device draws them there: only the stream ids are copied, once). */
        public Tensor normal(Placement where, int per, int dim) {
            return draw(where, per, dim, true);
        }

        private Tensor draw(Placement where, int per, int dim, boolean normal) {
            if (where.isHost()) {
                Tensor t = Tensor.zeros(per, ids.length, dim);
                fill(t.data(), per, dim, normal);
                return t;
            }
            Tensor t = Backends.of(where).philox(seed, ids, position, normal, per, dim);
            position += blocks(per * dim);
            return t;
        }

        public void normal(float[] out, int per, int dim) {
            fill(out, per, dim, true);
        }

        public void uniform(float[] out, int per, int dim) {
            fill(out, per, dim, false);
        }

        @Override
        public Tensor momenta(Placement where, int chains, int dim) {
            return draw(where, perGroup(chains), dim, true).reshape(chains, dim);
        }

        @Override
        public Tensor uniforms(Placement where, int chains) {
            return draw(where, perGroup(chains), 1, false).reshape(chains);
        }

        private int perGroup(int chains) {
            if (chains % ids.length != 0) {
                throw new IllegalArgumentException(chains + " chains are not a multiple of " + ids.length + " groups");
            }
            return chains / ids.length;
        }

        private void fill(float[] out, int per, int dim, boolean normal) {
            int g = ids.length, n = per * dim, blocks = blocks(n);
            long start = position;
            position += blocks;
            Parallel.forRange(g, 1, Math.max(1, 2048 / Math.max(blocks, 1)), (from, to) -> {
                int[] w = new int[4];
                float[] v = new float[4];
                for (int grp = from; grp < to; grp++) {
                    for (int b = 0; b < blocks; b++) {
                        RandomStream.blockValues(seed, ids[grp], start + b, normal, w, v);
                        for (int j = 0, i = 4 * b; j < 4 && i < n; j++, i++) {
                            int k = i / dim, d = i - k * dim;
                            out[(k * g + grp) * dim + d] = v[j];
                        }
                    }
                }
            });
        }
    }
}
