package org.aiwae.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.aiwae.AiwaeException;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.random.RandomStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataTest {
    @TempDir
    Path dir;

    static Images randomImages(int n, int rows, int cols, long seed) {
        Random r = new Random(seed);
        float[] p = new float[n * rows * cols];
        int[] labels = new int[n];
        for (int i = 0; i < p.length; i++) {
            p[i] = r.nextInt(256) / 255f;
        }
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(10);
        }
        return new Images("random", p, n, rows, cols, labels);
    }

    /** Writes the four MNIST-named IDX files (gzip when asked) into {@code into}. */
    static void writeIdxSet(Path into, Images train, Images test, boolean gzip) throws IOException {
        Files.createDirectories(into);
        Idx.write(train, into.resolve("train-images-idx3-ubyte"), into.resolve("train-labels-idx1-ubyte"));
        Idx.write(test, into.resolve("t10k-images-idx3-ubyte"), into.resolve("t10k-labels-idx1-ubyte"));
        if (gzip) {
            try (var s = Files.list(into)) {
                for (Path f : s.toList()) {
                    try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(Path.of(f + ".gz")))) {
                        Files.copy(f, o);
                    }
                    Files.delete(f);
                }
            }
        }
    }

    @Test
    void embeddedSubsetIsTheFirstMnistDigits() {
        Split s = Datasets.embedded();
        assertEquals(2000, s.train().count());
        assertEquals(500, s.test().count());
        assertEquals(784, s.train().dim());
        assertEquals(5, s.train().labels()[0], "MNIST's first training digit is a 5");
        assertEquals(7, s.test().labels()[0], "MNIST's first test digit is a 7");
        assertEquals(0.13, s.train().meanIntensity(), 0.01);
    }

    @Test
    void idxRoundTripRawAndGzip() throws IOException {
        Images train = randomImages(30, 28, 28, 1), test = randomImages(10, 28, 28, 2);
        writeIdxSet(dir.resolve("mnist"), train, test, true);
        Split s = Datasets.load("mnist", dir);
        assertArrayEquals(train.pixels(), s.train().pixels());
        assertArrayEquals(test.labels(), s.test().labels());
        writeIdxSet(dir.resolve("raw"), train, test, false);
        assertArrayEquals(test.pixels(), Datasets.load("mnist", dir.resolve("raw")).test().pixels());
    }

    @Test
    void missingDataNamesTheFetchCommand() {
        AiwaeException e = assertThrows(AiwaeException.class, () -> Datasets.load("mnist", dir.resolve("nothing")));
        assertTrue(e.getMessage().contains("bin/aiwae data fetch mnist"), e.getMessage());
        assertThrows(AiwaeException.class, () -> Datasets.load("omniglot", dir));
        AiwaeException u = assertThrows(AiwaeException.class, () -> Datasets.load("cifar", dir));
        assertTrue(u.getMessage().contains("unknown dataset"), u.getMessage());
    }

    @Test
    void truncatedCorruptAndWrongSizedFilesFailWithOneLine() throws IOException {
        Images train = randomImages(30, 28, 28, 1), test = randomImages(10, 28, 28, 2);
        Path d = dir.resolve("bad");
        writeIdxSet(d, train, test, false);
        Path img = d.resolve("train-images-idx3-ubyte");
        byte[] full = Files.readAllBytes(img);
        Files.write(img, java.util.Arrays.copyOf(full, full.length - 100));
        AiwaeException t = assertThrows(AiwaeException.class, () -> Datasets.load("mnist", d));
        assertTrue(t.getMessage().contains("truncated"), t.getMessage());
        full[3] = 0x09;
        Files.write(img, full);
        AiwaeException c = assertThrows(AiwaeException.class, () -> Datasets.load("mnist", d));
        assertTrue(c.getMessage().contains("not an IDX image file"), c.getMessage());
        Path w = dir.resolve("wrong");
        writeIdxSet(w, randomImages(5, 20, 20, 3), randomImages(5, 20, 20, 4), false);
        AiwaeException s = assertThrows(AiwaeException.class, () -> Datasets.load("mnist", w));
        assertTrue(s.getMessage().contains("20x20"), s.getMessage());
    }

    @Test
    void omniglotMatFileRoundTripsInTheIwaeLayout() throws IOException {
        Images train = randomImages(12, 28, 28, 5), test = randomImages(4, 28, 28, 6);
        Path f = dir.resolve("chardata.mat");
        Omniglot.write(f, train, test);
        Split s = Datasets.load("omniglot", dir);
        assertEquals(12, s.train().count());
        assertArrayEquals(train.pixels(), s.train().pixels());
        assertArrayEquals(test.pixels(), s.test().pixels());
    }

    @Test
    void omniglotStoresImagesColumnMajorLikeMatlab() throws IOException {
        // one training image with a single lit pixel at row 2, column 5; MATLAB's linear index is col*28 + row
        float[] p = new float[784];
        p[2 * 28 + 5] = 1f;
        Images one = new Images("one", p, 1, 28, 28, null);
        Path f = dir.resolve("chardata.mat");
        Omniglot.write(f, one, one);
        var mat = us.hebi.matlab.mat.format.Mat5.readFromFile(f.toFile());
        us.hebi.matlab.mat.types.Matrix m = mat.getMatrix("data");
        assertEquals(784, m.getNumRows());
        assertEquals(1.0, m.getDouble(5 * 28 + 2), 0);
        mat.close();
    }

    @Test
    void corruptMatFileFailsWithOneLine() throws IOException {
        Files.write(dir.resolve("chardata.mat"), "MATLAB 5.0 MAT-file, not really".getBytes());
        AiwaeException e = assertThrows(AiwaeException.class, () -> Datasets.load("omniglot", dir));
        assertTrue(!e.getMessage().contains("\n") && e.getMessage().contains("chardata.mat"), e.getMessage());
    }

    @Test
    void dynamicBinarisationFollowsTheIntensities() {
        Tensor p = Tensor.zeros(4, 10000);
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 10000; j++) {
                p.set(i / 3f, i, j);
            }
        }
        Tensor x = Binarizer.sample(p, new RandomStream(1));
        for (int i = 0; i < 4; i++) {
            double mean = 0;
            for (int j = 0; j < 10000; j++) {
                float v = x.get(i, j);
                assertTrue(v == 0f || v == 1f);
                mean += v / 10000;
            }
            assertEquals(i / 3.0, mean, 0.015);
        }
        Tensor again = Binarizer.sample(p, new RandomStream(2));
        assertTrue(!java.util.Arrays.equals(x.toArray(), again.toArray()), "a new draw each time");
    }
}
