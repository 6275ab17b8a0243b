package org.aiwae.data;

import org.aiwae.engine.Tensor;

/**
 * A set of grey-level images with intensities in [0, 1], one row of {@code rows * cols} pixels per image.
 *
 * @param name   where they came from, for messages and metadata
 * @param pixels {@code count * rows * cols} intensities, row-major
 * @param labels class labels, or null when the source has none
 */
public record Images(String name, float[] pixels, int count, int rows, int cols, int[] labels) {

    public Images {
        if (pixels.length != (long) count * rows * cols) {
            throw new IllegalArgumentException(name + ": " + pixels.length + " pixels for " + count + " images of " + rows + "x" + cols);
        }
        if (labels != null && labels.length != count) {
            throw new IllegalArgumentException(name + ": " + labels.length + " labels for " + count + " images");
        }
    }

    public int dim() {
        return rows * cols;
    }

    /** The first {@code n} images (or all when n is larger). */
    public Images limit(int n) {
        if (n >= count) {
            return this;
        }
        float[] p = java.util.Arrays.copyOf(pixels, n * dim());
        int[] l = labels == null ? null : java.util.Arrays.copyOf(labels, n);
        return new Images(name, p, n, rows, cols, l);
    }

    /** Intensities of the listed images as a {@code [indices.length, dim]} tensor. */
    public Tensor gather(int[] indices, int from, int to) {
        int d = dim();
        Tensor t = Tensor.zeros(to - from, d);
        for (int i = from; i < to; i++) {
            System.arraycopy(pixels, indices[i] * d, t.data(), (i - from) * d, d);
        }
        return t;
    }

    /** Intensities of images {@code [from, to)} as a tensor. */
    public Tensor slice(int from, int to) {
        return Tensor.of(java.util.Arrays.copyOfRange(pixels, from * dim(), to * dim()), to - from, dim());
    }

    /** Mean intensity over every pixel. */
    public double meanIntensity() {
        double s = 0;
        for (float p : pixels) {
            s += p;
        }
        return s / pixels.length;
    }
}
