package org.aiwae.kernels;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.junit.jupiter.api.Assumptions;

/**
 * The backends a parametrized test runs on, for the kernels' tests and (through this module's test jar)
 * the application's: cpu always; opencl (required where {@code AIWAE_REQUIRE_OPENCL} is set, as in CI on
 * PoCL, else skipped with the reason); cuda where a driver and GPU exist (required with
 * {@code AIWAE_REQUIRE_CUDA}, else skipped with the reason). Device backends are opened once per test
 * JVM and closed at its exit. A test takes the backend's name ({@link OnEveryBackend}) and calls
 * {@link #get} itself, so that an absent device skips that one case, not the whole test.
 */
public final class TestBackends {
    private static final Map<String, Backend> OPEN = new HashMap<>();

    private TestBackends() {}

    /** {@code cpu}, {@code opencl}, {@code cuda}: what {@link OnEveryBackend} runs a test on ({@link #selected}). */
    public static Stream<String> names() {
        return selected("cpu", "opencl", "cuda");
    }

    /** {@code opencl}, {@code cuda}: what {@link OnEveryDevice} runs a test on ({@link #selected}). */
    public static Stream<String> devices() {
        return selected("opencl", "cuda");
    }

    /**
     * {@code names}, or those of them that {@code AIWAE_TEST_BACKENDS} lists (comma-separated): the GPU check sets
     * {@code cuda}, so that it spends its minutes on the CUDA cases and leaves the CPU and OpenCL ones to CI.
     */
    private static Stream<String> selected(String... names) {
        String only = System.getenv("AIWAE_TEST_BACKENDS");
        if (only == null || only.isBlank()) {
            return Stream.of(names);
        }
        List<String> keep = List.of(only.strip().split("\\s*,\\s*"));
        return Stream.of(names).filter(keep::contains);
    }

    /**
     * The backend called {@code name}, opened on first use; a test case that asks for an absent device is
     * skipped with the reason, or fails where {@code AIWAE_REQUIRE_<NAME>} is set.
     */
    public static synchronized Backend get(String name) {
        if (name.equals("cpu")) {
            return Backends.cpu();
        }
        Backend b = OPEN.get(name);
        if (b == null) {
            try {
                b = Accelerators.open(name);
            } catch (BackendUnavailableException e) {
                if (System.getenv("AIWAE_REQUIRE_" + name.toUpperCase()) != null) {
                    throw new AssertionError("AIWAE_REQUIRE_" + name.toUpperCase() + " is set but " + e.getMessage());
                }
                Assumptions.abort("skipped: " + e.getMessage());
            }
            OPEN.put(name, b);
            Backend opened = b;
            Runtime.getRuntime().addShutdownHook(new Thread(opened::close));
        }
        return b;
    }

    /** {@link #get} for a device name. */
    public static DeviceBackend device(String name) {
        return (DeviceBackend) get(name);
    }
}
