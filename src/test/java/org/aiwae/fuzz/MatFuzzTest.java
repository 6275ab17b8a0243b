package org.aiwae.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.aiwae.AiwaeException;
import org.aiwae.data.Omniglot;

/**
 * Fuzzes the Omniglot MAT v5 reader ({@code chardata.mat}, through the MAT File Library): any bytes
 * either load or fail with one AiwaeException line naming the file; never another exception, a
 * stack overflow or an OutOfMemoryError from a hostile size field.
 */
class MatFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void read(byte[] data) {
        try {
            Omniglot.read(data, "fuzz-chardata.mat");
        } catch (AiwaeException e) {
            Reported.check(e, "fuzz-chardata.mat");
        }
    }
}
