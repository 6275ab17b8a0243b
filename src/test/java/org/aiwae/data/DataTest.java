package org.aiwae.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
    void missingDataNamesTheFoldersLookedIn() {
        Datasets.NotFound e = assertThrows(Datasets.NotFound.class, () -> Datasets.load("mnist", dir.resolve("nothing")));
        assertEquals("mnist", e.dataset());
        assertTrue(e.getMessage().contains(dir.resolve("nothing").resolve("mnist").toString()), e.getMessage());
        assertFalse(e.getMessage().contains("--"), "the library names folders, the command line its flags: " + e.getMessage());
        assertEquals("omniglot", assertThrows(Datasets.NotFound.class, () -> Datasets.load("omniglot", dir)).dataset());
        AiwaeException u = assertThrows(AiwaeException.class, () -> Datasets.load("cifar", dir));
        assertTrue(u.getMessage().contains("unknown dataset"), u.getMessage());
    }

    @Test
    void truncatedCorruptAndWrongSizedFilesFailWithOneLine() throws IOException {
        Path d = idxSet("bad", false), img = d.resolve("train-images-idx3-ubyte");
        byte[] full = Files.readAllBytes(img);
        Files.write(img, java.util.Arrays.copyOf(full, full.length - 100));
        assertRejected(d, img, "truncated");
        full[3] = 0x09;
        Files.write(img, full);
        assertRejected(d, img, "not an IDX image file");
        Path w = dir.resolve("wrong");
        writeIdxSet(w, randomImages(5, 20, 20, 3), randomImages(5, 20, 20, 4), false);
        AiwaeException size = assertThrows(AiwaeException.class, () -> Datasets.load("mnist", w));
        assertTrue(size.getMessage().contains("images are 20x20; the models expect 28x28"), size.getMessage());
    }

    /** The 30 training and 10 test images of 28x28 ({@link #randomImages} of seeds 1 and 2) as an IDX set in {@code name}. */
    private Path idxSet(String name, boolean gzip) throws IOException {
        Path d = dir.resolve(name);
        writeIdxSet(d, randomImages(30, 28, 28, 1), randomImages(10, 28, 28, 2), gzip);
        return d;
    }

    /** Loading {@code dataDir} fails with one line that names {@code file} and says {@code expected}. */
    private static void assertRejected(Path dataDir, Path file, String expected) {
        AiwaeException e = assertThrows(AiwaeException.class, () -> Datasets.load("mnist", dataDir));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains(expected) && !e.getMessage().contains("\n"),
                e.getMessage());
    }

    @Test
    void gzipCrcLengthAndTruncationAreCaught() throws IOException {
        Path d = idxSet("gz", true), img = d.resolve("train-images-idx3-ubyte.gz");
        byte[] good = Files.readAllBytes(img);
        byte[] crc = good.clone();
        crc[crc.length - 8] ^= 0x5A; // the trailer's CRC-32: every data byte decompresses fine, only the check fails
        Files.write(img, crc);
        assertRejected(d, img, "Corrupt GZIP trailer");
        byte[] size = good.clone();
        size[size.length - 4] ^= 0x01; // the trailer's ISIZE
        Files.write(img, size);
        assertRejected(d, img, "Corrupt GZIP trailer");
        Files.write(img, java.util.Arrays.copyOf(good, good.length - 6));
        assertRejected(d, img, "truncated");
        Files.write(img, good);
        assertArrayEquals(randomImages(30, 28, 28, 1).pixels(), Datasets.load("mnist", d).train().pixels());
    }

    @Test
    void headersThatDisagreeWithTheDataAreCaught() throws IOException {
        Path d = idxSet("hdr", false);
        Path img = d.resolve("train-images-idx3-ubyte"), lab = d.resolve("train-labels-idx1-ubyte");
        byte[] good = Files.readAllBytes(img);
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 3);
        Files.write(img, longer);
        assertRejected(d, img, "3 bytes follow the 30 images of 28x28");
        // a hostile count: 2^31-1 images announced by a small file fails on the data, without allocating for the claim
        byte[] hostile = good.clone();
        java.nio.ByteBuffer.wrap(hostile).putInt(4, 2_000_000).putInt(8, 28).putInt(12, 28);
        Files.write(img, hostile);
        assertRejected(d, img, "truncated");
        java.nio.ByteBuffer.wrap(hostile).putInt(4, 1 << 20).putInt(8, 1 << 20).putInt(12, 1 << 20);
        Files.write(img, hostile);
        assertRejected(d, img, "header says 1048576 images of 1048576x1048576");
        java.nio.ByteBuffer.wrap(hostile).putInt(4, -5);
        Files.write(img, hostile);
        assertRejected(d, img, "header says -5 images");
        Files.write(img, good);
        byte[] labels = Files.readAllBytes(lab);
        labels[3] = 0x03;
        Files.write(lab, labels);
        assertRejected(d, lab, "not an IDX label file");
        labels[3] = 0x01;
        java.nio.ByteBuffer.wrap(labels).putInt(4, 29);
        Files.write(lab, labels);
        assertRejected(d, lab, "29 labels for 30 images");
    }

    @Test
    void matFileWithHostileDimensionsFailsWithOneLine() throws IOException {
        byte[] seed;
        try (var in = DataTest.class.getResourceAsStream("/org/aiwae/fuzz/MatFuzzTestInputs/read/uncompressed")) {
            seed = in.readAllBytes();
        }
        assertEquals(1, Omniglot.read(seed, "seed.mat").train().count());
        // the dimensions of 'data' (784 x 1, little-endian int32 at byte 0xA0) claim 784 x 2^30 images
        byte[] hostile = seed.clone();
        java.nio.ByteBuffer.wrap(hostile).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0xA4, 1 << 30);
        AiwaeException e = assertThrows(AiwaeException.class, () -> Omniglot.read(hostile, "hostile.mat"));
        assertTrue(e.getMessage().startsWith("hostile.mat") && !e.getMessage().contains("\n"), e.getMessage());
        byte[] cut = java.util.Arrays.copyOf(seed, seed.length / 2);
        AiwaeException t = assertThrows(AiwaeException.class, () -> Omniglot.read(cut, "cut.mat"));
        assertTrue(t.getMessage().startsWith("cut.mat"), t.getMessage());
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
        try (var mat = us.hebi.matlab.mat.format.Mat5.readFromFile(f.toFile())) {
            us.hebi.matlab.mat.types.Matrix m = mat.getMatrix("data");
            assertEquals(784, m.getNumRows());
            assertEquals(1.0, m.getDouble(5 * 28 + 2), 0);
        }
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
