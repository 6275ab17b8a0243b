package org.aiwae.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The one kernel body ({@code aiwae_body.h}) and the OpenCL program built from it. The CUDA build
 * compiles the same body after {@code dialect_cuda.h} into {@code cuda/aiwae.fatbin} at build time
 * ({@code kernels/build-cuda.sh}).
 */
public final class KernelSource {
    private KernelSource() {}

    /** The kernel body, as in {@code kernels/src/main/kernels/aiwae_body.h}. */
    public static String body() {
        return resource("aiwae_body.h");
    }

    /** The OpenCL program: {@code dialect_opencl.h}, then the body (whose lines keep their numbers in build logs). */
    public static String opencl() {
        return resource("dialect_opencl.h") + "\n#line 1 \"aiwae_body.h\"\n" + body();
    }

    private static String resource(String name) {
        try (InputStream in = KernelSource.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new BackendUnavailableException("kernels: " + name + " is missing from the kernels jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BackendUnavailableException("kernels: cannot read " + name + ": " + e.getMessage());
        }
    }
}
