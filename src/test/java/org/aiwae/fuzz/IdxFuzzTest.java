package org.aiwae.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import org.aiwae.AiwaeException;
import org.aiwae.data.Idx;
import org.aiwae.data.Images;

/**
 * Fuzzes the IDX reader (MNIST and Fashion-MNIST files, raw or gzip): any pair of files either
 * loads or fails with one AiwaeException line naming the file at fault; never another exception
 * or an OutOfMemoryError from a hostile header. Input layout: two bytes (big-endian) give the
 * length L of the label file, then L bytes of label file, then the image file.
 */
class IdxFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void read(byte[] data) {
        if (data.length < 2) {
            return;
        }
        int l = Math.min(((data[0] & 0xFF) << 8) | (data[1] & 0xFF), data.length - 2);
        byte[] labels = Arrays.copyOfRange(data, 2, 2 + l);
        byte[] images = Arrays.copyOfRange(data, 2 + l, data.length);
        try {
            Images im = Idx.read(images, "fuzz-images-idx3-ubyte", labels, "fuzz-labels-idx1-ubyte", "fuzz");
            if (im.pixels().length != im.count() * im.rows() * im.cols() || im.labels().length != im.count()) {
                throw new AssertionError("inconsistent images");
            }
        } catch (AiwaeException e) {
            String m = e.getMessage();
            Reported.check(e, m != null && m.contains("fuzz-labels") ? "fuzz-labels-idx1-ubyte" : "fuzz-images-idx3-ubyte");
        }
    }
}
