package org.aiwae.eval;

import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.Key;
import org.aiwae.engine.random.RandomStream;

/**
 * The random streams of an evaluation, one per (split, image, phase): image i's binarisation, its
 * AIS chains and its NVLB samples draw only from the streams of the {@link Key}s named by (seed, split, i,
 * phase), never from where the image sits in a batch. Any subset, order, batching or sharding of
 * the images therefore gives each image the same result, bit for bit on the CPU backend.
 *
 * <p>Key: the evaluation's seed and the id {@code 7 << 56 | split << 52 | phase << 48 | image} (purpose 7 is not
 * used by training's streams, whose purposes are 1 to 6).
 *
 * @param seed  the evaluation's seed
 * @param split 1 for the test images, 2 for the training images (0 for other data)
 */
public record ImageStreams(long seed, int split) {
    private static final long PURPOSE = 7;

    /** What a stream is used for. */
    public enum Phase {
        BINARIZE(1), AIS(2), NVLB(3);

        private final int code;

        Phase(int code) {
            this.code = code;
        }
    }

    public ImageStreams {
        if (split < 0 || split > 15) {
            throw new IllegalArgumentException("split code must be in [0, 15], got " + split);
        }
    }

    /** The streams of a split by name: {@code test} or {@code train}. */
    public static ImageStreams of(long seed, String split) {
        return new ImageStreams(seed, switch (split) {
            case "test" -> 1;
            case "train" -> 2;
            default -> throw new IllegalArgumentException("unknown split " + split);
        });
    }

    /** The key of image {@code image}'s stream for {@code phase}. */
    public Key key(Phase phase, long image) {
        if (image < 0 || image >= 1L << 48) {
            throw new IllegalArgumentException("image index out of range: " + image);
        }
        return new Key(seed, PURPOSE << 56 | (long) split << 52 | (long) phase.code << 48 | image);
    }

    public RandomStream stream(Phase phase, long image) {
        return key(phase, image).stream();
    }

    /** One stream per listed image, all at position 0: the noise of a batch of these images. */
    public ChainNoise.PerGroup group(Phase phase, int[] images) {
        Key[] keys = new Key[images.length];
        for (int i = 0; i < images.length; i++) {
            keys[i] = key(phase, images[i]);
        }
        return ChainNoise.PerGroup.of(keys);
    }
}
