package org.aiwae.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.aiwae.AiwaeException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import us.hebi.matlab.mat.format.BufferAllocator;
import us.hebi.matlab.mat.format.Mat5;
import us.hebi.matlab.mat.format.Mat5Reader;
import us.hebi.matlab.mat.types.Sources;
import us.hebi.matlab.mat.types.Array;
import us.hebi.matlab.mat.types.MatFile;
import us.hebi.matlab.mat.types.Matrix;

/**
 * Omniglot as {@code chardata.mat} from the IWAE study: a MAT v5 file whose variables
 * {@code data} (784 x 24,345) and {@code testdata} (784 x 8,070) hold one 28x28 image per column,
 * each image stored column-major (MATLAB order), intensities in [0, 1]. Read with the MAT File
 * Library (MFL); images come out row-major like MNIST's, as the IWAE code's
 * {@code reshape(..., order='F')} makes them.
 */
public final class Omniglot {
    public static final int SIDE = 28;

    private Omniglot() {}

    /**
     * Most bytes that MAT content can legitimately decompress to per byte of file: deflate's
     * largest ratio is about 1032:1. The reader's buffers are allocated from a budget of this many
     * bytes per file byte (plus 1 MiB), so a hostile size field fails with a message, never an
     * OutOfMemoryError.
     */
    static final long MAX_EXPANSION = 1032;

    /** Reads {@code chardata.mat}; any problem is an {@link AiwaeException} naming the file. */
    public static Split read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new AiwaeException("Omniglot file not found: " + file);
        }
        byte[] bytes;
        try {
            if (Files.size(file) > Integer.MAX_VALUE - 8) {
                throw new AiwaeException(file + " is too large for chardata.mat (" + Files.size(file) + " bytes)");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + file + ": " + org.aiwae.io.IoErrors.reason(e), e);
        }
        return read(bytes, file.toString());
    }

    /** Reads the bytes of a {@code chardata.mat}; {@code name} is the file named in error messages. */
    public static Split read(byte[] bytes, String name) {
        if (bytes.length < 128 || !new String(bytes, 0, 10, java.nio.charset.StandardCharsets.ISO_8859_1).equals("MATLAB 5.0")) {
            throw new AiwaeException(name + " is not a MAT v5 file (it must start with a 128-byte 'MATLAB 5.0' header)");
        }
        Mat5Reader reader = Mat5.newReader(Sources.wrap(bytes))
                .setBufferAllocator(new Budget(MAX_EXPANSION * bytes.length + (1 << 20), name));
        try (MatFile mat = reader.readMat()) {
            return new Split("omniglot", images(mat, "data", name), images(mat, "testdata", name));
        } catch (AiwaeException e) {
            throw e;
        } catch (IOException | RuntimeException | StackOverflowError e) {
            // StackOverflowError: the MAT library recurses into nested cells and structs
            if (e.getCause() instanceof AiwaeException a) {
                throw a;
            }
            throw new AiwaeException(name + " is not a readable MAT v5 file (" + oneLine(e) + ")", e);
        }
    }

    /** Zeroed heap buffers for the MAT library, refused once a file's allocations pass a budget. */
    private static final class Budget implements BufferAllocator {
        private final long limit;
        private final String name;
        private long used;

        Budget(long limit, String name) {
            this.limit = limit;
            this.name = name;
        }

        @Override
        public synchronized ByteBuffer allocate(int numBytes) {
            if (numBytes < 0 || used + numBytes > limit) {
                throw new AiwaeException(name + " is corrupt: it declares more data (" + (used + (long) numBytes)
                        + " bytes) than a file of its size can hold");
            }
            used += numBytes;
            return ByteBuffer.allocate(numBytes).order(ByteOrder.nativeOrder());
        }

        @Override
        public void release(ByteBuffer buffer) {
            // heap buffers: the garbage collector frees them; the budget counts what was ever asked for
        }
    }

    private static Images images(MatFile mat, String variable, String file) {
        Array array;
        try {
            array = mat.getArray(variable);
        } catch (RuntimeException e) {
            throw new AiwaeException(file + " has no variable '" + variable + "' (expected chardata.mat of the IWAE study)");
        }
        if (!(array instanceof Matrix m) || m.getNumDimensions() != 2) {
            throw new AiwaeException(file + ": '" + variable + "' is not a 2-d numeric matrix");
        }
        int d = SIDE * SIDE;
        if (m.getNumRows() != d) {
            throw new AiwaeException(file + ": '" + variable + "' has " + m.getNumRows() + " rows; expected " + d
                    + " (28x28 images, one per column)");
        }
        int n = m.getNumCols();
        if ((long) n * d > Integer.MAX_VALUE - 8) {
            throw new AiwaeException(file + ": '" + variable + "' has " + n + " columns; too many images for one array");
        }
        float[] pixels = new float[n * d];
        for (int i = 0; i < n; i++) {
            for (int row = 0; row < SIDE; row++) {
                for (int col = 0; col < SIDE; col++) {
                    double v = m.getDouble(i * d + col * SIDE + row);
                    if (!(v >= 0 && v <= 1)) {
                        throw new AiwaeException(file + ": '" + variable + "' holds " + v + "; intensities must lie in [0, 1]");
                    }
                    pixels[i * d + row * SIDE + col] = (float) v;
                }
            }
        }
        return new Images("omniglot/" + variable, pixels, n, SIDE, SIDE, null);
    }

    /** Writes a file in the same layout (for tests and for converting other sources). */
    public static void write(Path file, Images train, Images test) throws IOException {
        MatFile mat = Mat5.newMatFile();
        mat.addArray("data", toMatrix(train));
        mat.addArray("testdata", toMatrix(test));
        Mat5.writeToFile(mat, file.toFile());
    }

    private static Matrix toMatrix(Images images) {
        int d = SIDE * SIDE;
        Matrix m = Mat5.newMatrix(d, images.count());
        for (int i = 0; i < images.count(); i++) {
            for (int row = 0; row < SIDE; row++) {
                for (int col = 0; col < SIDE; col++) {
                    m.setDouble(i * d + col * SIDE + row, images.pixels()[i * d + row * SIDE + col]);
                }
            }
        }
        return m;
    }

    private static String oneLine(Throwable e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return msg.replaceAll("\\s+", " ");
    }
}
