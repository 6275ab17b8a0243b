package org.aiwae.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import org.aiwae.AiwaeException;

/** Reads the IDX files of MNIST and Fashion-MNIST, gzip-compressed or raw. */
public final class Idx {
    private static final int IMAGES_MAGIC = 0x00000803;
    private static final int LABELS_MAGIC = 0x00000801;

    private Idx() {}

    /** The largest label: MNIST and Fashion-MNIST have the ten classes 0-9. */
    static final int MAX_LABEL = 9;

    /** Pixels per file at most: a float array of the images must fit in one Java array. */
    static final long MAX_VALUES = Integer.MAX_VALUE - 8;

    /**
     * Reads an image file and its label file; fails with one line naming the file on any corruption:
     * a wrong magic number, impossible dimensions, a file shorter or longer than its header announces,
     * a gzip stream whose CRC or length does not match (the stream is read to its end, so the
     * trailer is always verified), or a label file that does not match the images.
     */
    public static Images read(Path images, Path labels, String name) {
        try (InputStream in = open(images); InputStream lin = open(labels)) {
            return read(in, images.toString(), lin, labels.toString(), name);
        } catch (IOException e) {
            // only close() can get here: open() and read() name their file themselves
            throw new AiwaeException("cannot read " + images + " or " + labels + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads IDX images (and labels, when {@code labels} is not null) from streams, which must be
     * positioned at the files' first byte and are read to their end.
     */
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
            throw corrupt(imagesName, e);
        }
        if (count <= 0 || rows <= 0 || cols <= 0 || (long) rows * cols > MAX_VALUES || (long) count * rows * cols > MAX_VALUES) {
            throw new AiwaeException(imagesName + " is corrupt: header says " + count + " images of " + rows + "x" + cols);
        }
        byte[] raw = readExactly(in, (long) count * rows * cols, imagesName, count + " images of " + rows + "x" + cols);
        float[] pixels = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            pixels[i] = (raw[i] & 0xFF) / 255f;
        }
        int[] lab = null;
        if (labels != null) {
            DataInputStream ln = new DataInputStream(new BufferedInputStream(labels));
            int lmagic, n;
            try {
                lmagic = ln.readInt();
                if (lmagic != LABELS_MAGIC) {
                    throw new AiwaeException(labelsName + " is not an IDX label file (magic " + String.format("0x%08x", lmagic)
                            + ", expected 0x00000801)");
                }
                n = ln.readInt();
            } catch (EOFException e) {
                throw new AiwaeException(labelsName + " is truncated: the IDX header is incomplete");
            } catch (IOException e) {
                throw corrupt(labelsName, e);
            }
            if (n != count) {
                throw new AiwaeException(labelsName + " has " + n + " labels for " + count + " images in " + imagesName);
            }
            byte[] lb = readExactly(ln, n, labelsName, n + " labels");
            lab = new int[n];
            for (int i = 0; i < n; i++) {
                lab[i] = lb[i] & 0xFF;
                if (lab[i] > MAX_LABEL) {
                    throw new AiwaeException(labelsName + " is corrupt: label " + lab[i] + " of image " + i + " is not a class 0-"
                            + MAX_LABEL);
                }
            }
        }
        return new Images(name, pixels, count, rows, cols, lab);
    }

    /**
     * Reads exactly {@code length} bytes and then the stream to its end (a gzip stream checks its
     * CRC and length there). Memory grows with the bytes actually present, never with what a header
     * claims, so a hostile length field cannot exhaust the heap.
     */
    private static byte[] readExactly(InputStream in, long length, String file, String what) {
        byte[] buf = new byte[(int) Math.min(length, 1 << 20)];
        int have = 0;
        try {
            while (have < length) {
                if (have == buf.length) {
                    buf = Arrays.copyOf(buf, (int) Math.min(length, 2L * buf.length));
                }
                int r = in.read(buf, have, buf.length - have);
                if (r < 0) {
                    throw new AiwaeException(file + " is truncated: it ends after " + have + " of the " + length
                            + " data bytes its header announces (" + what + ")");
                }
                have += r;
            }
            byte[] extra = new byte[4096];
            long more = 0;
            for (int r; (r = in.read(extra)) >= 0; ) {
                more += r;
            }
            if (more > 0) {
                throw new AiwaeException(file + " is corrupt: " + more + " bytes follow the " + what + " its header announces");
            }
        } catch (EOFException e) {
            throw new AiwaeException(file + " is truncated: " + e.getMessage() + " (" + what + " announced)");
        } catch (IOException e) {
            throw corrupt(file, e);
        }
        return buf;
    }

    private static AiwaeException corrupt(String file, IOException e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new AiwaeException(file + " is corrupt: " + why.replaceAll("\\s+", " "), e);
    }

    /** Opens a file, decompressing it when it starts with the gzip magic bytes; failures name the file. */
    static InputStream open(Path file) {
        InputStream raw = null;
        try {
            raw = Files.newInputStream(file);
            return gunzipIfCompressed(raw, file.toString());
        } catch (IOException e) {
            closeQuietly(raw);
            throw new AiwaeException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (AiwaeException e) {
            closeQuietly(raw);
            throw e;
        }
    }

    /**
     * Reads IDX images and labels held in memory, each raw or gzip-compressed (told apart by the
     * gzip magic bytes, as for files); {@code labels} may be null.
     */
    public static Images read(byte[] images, String imagesName, byte[] labels, String labelsName, String name) {
        return read(gunzipIfCompressed(new java.io.ByteArrayInputStream(images), imagesName), imagesName,
                labels == null ? null : gunzipIfCompressed(new java.io.ByteArrayInputStream(labels), labelsName), labelsName, name);
    }

    private static InputStream gunzipIfCompressed(InputStream in, String name) {
        InputStream raw = new BufferedInputStream(in, 1 << 16);
        try {
            raw.mark(2);
            int b0 = raw.read(), b1 = raw.read();
            raw.reset();
            return b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(raw, 1 << 16) : raw;
        } catch (EOFException e) {
            throw new AiwaeException(name + " is truncated: " + e.getMessage());
        } catch (IOException e) {
            throw corrupt(name, e);
        }
    }

    private static void closeQuietly(InputStream in) {
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // the open failure is what gets reported
            }
        }
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
