package org.aiwae.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.aiwae.AiwaeException;

/** Reads the IDX files of MNIST and Fashion-MNIST, gzip-compressed or raw. */
public final class Idx {
    private static final int IMAGES_MAGIC = 0x00000803;
    private static final int LABELS_MAGIC = 0x00000801;

    private Idx() {}

    /** Reads an image file and its label file; fails with one line naming the file on any corruption. */
    public static Images read(Path images, Path labels, String name) {
        try (InputStream in = open(images); InputStream lin = open(labels)) {
            return read(in, images.toString(), lin, labels.toString(), name);
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + images + " or " + labels + ": " + e.getMessage(), e);
        }
    }

    public static Images read(InputStream images, String imagesName, InputStream labels, String labelsName, String name) {
        DataInputStream in = new DataInputStream(new BufferedInputStream(images, 1 << 16));
        int magic, count, rows, cols;
        try {
            magic = in.readInt();
            if (magic != IMAGES_MAGIC) {
                throw new AiwaeException(imagesName + " is not an IDX image file (magic " + String.format("0x%08x", magic)
                        + ", expected 0x00000803)");
            }
            count = in.readInt();
            rows = in.readInt();
            cols = in.readInt();
        } catch (EOFException e) {
            throw new AiwaeException(imagesName + " is truncated: the IDX header is incomplete");
        } catch (IOException e) {
            throw new AiwaeException(imagesName + " is corrupt: " + e.getMessage(), e);
        }
        if (count <= 0 || rows <= 0 || cols <= 0 || (long) count * rows * cols > Integer.MAX_VALUE) {
            throw new AiwaeException(imagesName + " is corrupt: header says " + count + " images of " + rows + "x" + cols);
        }
        byte[] raw = new byte[count * rows * cols];
        readFully(in, raw, imagesName, count + " images of " + rows + "x" + cols);
        float[] pixels = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            pixels[i] = (raw[i] & 0xFF) / 255f;
        }
        int[] lab = null;
        if (labels != null) {
            DataInputStream ln = new DataInputStream(new BufferedInputStream(labels));
            int n;
            try {
                if (ln.readInt() != LABELS_MAGIC) {
                    throw new AiwaeException(labelsName + " is not an IDX label file");
                }
                n = ln.readInt();
            } catch (EOFException e) {
                throw new AiwaeException(labelsName + " is truncated: the IDX header is incomplete");
            } catch (IOException e) {
                throw new AiwaeException(labelsName + " is corrupt: " + e.getMessage(), e);
            }
            if (n != count) {
                throw new AiwaeException(labelsName + " has " + n + " labels for " + count + " images in " + imagesName);
            }
            byte[] lb = new byte[n];
            readFully(ln, lb, labelsName, n + " labels");
            lab = new int[n];
            for (int i = 0; i < n; i++) {
                lab[i] = lb[i] & 0xFF;
            }
        }
        return new Images(name, pixels, count, rows, cols, lab);
    }

    private static void readFully(DataInputStream in, byte[] into, String file, String what) {
        try {
            in.readFully(into);
        } catch (EOFException e) {
            throw new AiwaeException(file + " is truncated: it ends before the " + what + " its header announces");
        } catch (IOException e) {
            throw new AiwaeException(file + " is corrupt: " + e.getMessage(), e);
        }
    }

    /** Opens a file, decompressing it when it starts with the gzip magic bytes. */
    static InputStream open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        raw.mark(2);
        int b0 = raw.read(), b1 = raw.read();
        raw.reset();
        return b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(raw, 1 << 16) : raw;
    }

    /** Writes images (and labels when present) as raw IDX files; for tests and tools. */
    public static void write(Images images, Path imagesFile, Path labelsFile) throws IOException {
        try (var out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(imagesFile)))) {
            out.writeInt(IMAGES_MAGIC);
            out.writeInt(images.count());
            out.writeInt(images.rows());
            out.writeInt(images.cols());
            for (float p : images.pixels()) {
                out.writeByte(Math.round(p * 255));
            }
        }
        if (labelsFile != null && images.labels() != null) {
            try (var out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(labelsFile)))) {
                out.writeInt(LABELS_MAGIC);
                out.writeInt(images.count());
                for (int l : images.labels()) {
                    out.writeByte(l);
                }
            }
        }
    }
}
