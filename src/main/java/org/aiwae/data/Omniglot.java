package org.aiwae.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.aiwae.AiwaeException;
import us.hebi.matlab.mat.format.Mat5;
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

    public static Split read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new AiwaeException("Omniglot file not found: " + file);
        }
        try (MatFile mat = Mat5.readFromFile(file.toFile())) {
            return new Split("omniglot", images(mat, "data", file), images(mat, "testdata", file));
        } catch (AiwaeException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new AiwaeException(file + " is not a readable MAT v5 file (" + oneLine(e) + ")", e);
        }
    }

    private static Images images(MatFile mat, String variable, Path file) {
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

    private static String oneLine(Exception e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return msg.replaceAll("\\s+", " ");
    }
}
