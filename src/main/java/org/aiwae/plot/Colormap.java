package org.aiwae.plot;

/** Colour maps for heat maps. */
public final class Colormap {
    private Colormap() {}

    // viridis sampled at 0, 1/8, ..., 1 (matplotlib's values)
    private static final int[] VIRIDIS = {0x440154, 0x46327E, 0x365C8D, 0x277F8E, 0x1FA187, 0x4AC16D, 0x9FDA3A, 0xD8E219, 0xFDE725};

    /** RGB of viridis at {@code t} in [0, 1], linearly interpolated between nine anchors. */
    public static int viridis(double t) {
        double u = Math.min(1, Math.max(0, Double.isNaN(t) ? 0 : t)) * (VIRIDIS.length - 1);
        int i = Math.min((int) u, VIRIDIS.length - 2);
        double f = u - i;
        int a = VIRIDIS[i], b = VIRIDIS[i + 1];
        int r = (int) Math.round(((a >> 16) & 255) * (1 - f) + ((b >> 16) & 255) * f);
        int g = (int) Math.round(((a >> 8) & 255) * (1 - f) + ((b >> 8) & 255) * f);
        int bl = (int) Math.round((a & 255) * (1 - f) + (b & 255) * f);
        return (r << 16) | (g << 8) | bl;
    }
}
