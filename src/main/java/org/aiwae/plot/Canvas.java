package org.aiwae.plot;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.aiwae.io.AtomicFiles;

/** An RGB picture assembled from panels (grey images, heat maps) and written as PNG. */
public final class Canvas {
    private final int width;
    private final int height;
    private final int[] rgb;

    public Canvas(int width, int height) {
        this.width = width;
        this.height = height;
        this.rgb = new int[width * height];
        Arrays.fill(rgb, 0xFFFFFF);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    public int pixel(int x, int y) {
        return rgb[y * width + x];
    }

    /** Values in [0, 1] as grey (1 = black ink on white, as digits are drawn), {@code scale} pixels per value. */
    public void grey(float[] values, int offset, int rows, int cols, int x0, int y0, int scale) {
        for (int r = 0; r < rows * scale; r++) {
            for (int c = 0; c < cols * scale; c++) {
                float v = Math.min(1, Math.max(0, values[offset + (r / scale) * cols + c / scale]));
                int g = Math.round(255 * (1 - v));
                set(x0 + c, y0 + r, (g << 16) | (g << 8) | g);
            }
        }
    }

    /** A heat map of {@code values [rows, cols]} (row 0 drawn at the top), each mapped by {@link Colormap#viridis}. */
    public void heat(double[] values, int rows, int cols, int x0, int y0) {
        double max = Double.NEGATIVE_INFINITY, min = Double.POSITIVE_INFINITY;
        for (double v : values) {
            max = Math.max(max, v);
            min = Math.min(min, v);
        }
        double span = max > min ? max - min : 1;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                set(x0 + c, y0 + r, Colormap.viridis((values[r * cols + c] - min) / span));
            }
        }
    }

    private void set(int x, int y, int color) {
        if (x >= 0 && x < width && y >= 0 && y < height) {
            rgb[y * width + x] = color;
        }
    }

    /** Writes the picture as PNG, atomically (the file appears whole or not at all). */
    public void writePng(Path file) throws IOException {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, width, height, rgb, 0, width);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        if (!ImageIO.write(img, "png", bytes)) {
            throw new UncheckedIOException(new IOException("no PNG writer in this Java runtime"));
        }
        AtomicFiles.write(file, bytes.toByteArray());
    }
}
