package org.aiwae.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.aiwae.AiwaeException;
import org.aiwae.io.SafeTensors;

/**
 * Fuzzes the safetensors reader (model.safetensors, train-state.safetensors): any bytes either load
 * or fail with one AiwaeException line naming the file; never another exception or an
 * OutOfMemoryError from a hostile header length, shape or offset.
 */
class SafeTensorsFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void read(byte[] data) {
        try {
            SafeTensors.Contents c = SafeTensors.read(data, "fuzz.safetensors");
            c.tensors().values().forEach(t -> {
                for (float f : t.toArray()) {
                    if (!Float.isFinite(f)) {
                        throw new AssertionError("a loaded tensor holds " + f);
                    }
                }
            });
        } catch (AiwaeException e) {
            Reported.check(e, "fuzz.safetensors");
        }
    }
}
