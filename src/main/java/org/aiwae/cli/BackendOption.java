package org.aiwae.cli;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.aiwae.AiwaeException;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.kernels.Accelerators;
import org.aiwae.kernels.BackendUnavailableException;
import org.aiwae.kernels.DeviceBackend;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --backend}: cpu, opencl, cuda (CUDA device 0), cuda:N (CUDA device N), or auto (CUDA, then an OpenCL
 * GPU, then the CPU). A picocli mixin.
 */
final class BackendOption {
    static final List<String> NAMES = List.of("cpu", "opencl", "cuda", "auto");
    /** {@code cuda:N}: the CUDA device of ordinal N, as nvidia-smi counts (a cluster task's GPU address). */
    static final Pattern CUDA_DEVICE = Pattern.compile("cuda:(\\d{1,4})");

    @Option(names = "--backend", paramLabel = "BACKEND", defaultValue = "cpu", converter = Name.class,
            completionCandidates = Candidates.class,
            description = "${COMPLETION-CANDIDATES}: where the arithmetic runs (cuda is CUDA device 0, cuda:N device N; auto: CUDA, "
                    + "then an OpenCL GPU, then the CPU); default: ${DEFAULT-VALUE}")
    String name;

    /** Opens the chosen backend; the caller closes it (a device backend frees its memory). */
    Backend open() {
        return open(name);
    }

    /** Opens the backend {@code name}; the caller closes it. */
    static Backend open(String name) {
        try {
            Matcher device = CUDA_DEVICE.matcher(name);
            if (device.matches()) {
                return announce(name, Accelerators.cuda(Integer.parseInt(device.group(1))));
            }
            return switch (name) {
                case "cpu" -> Backends.cpu();
                case "opencl", "cuda" -> announce(name, Accelerators.open(name));
                case "auto" -> {
                    DeviceBackend d = Accelerators.auto();
                    yield d == null ? Backends.cpu() : announce(d.name(), d);
                }
                default -> throw new AiwaeException("unknown backend '" + name + "'; choose " + choices());
            };
        } catch (BackendUnavailableException e) {
            throw new AiwaeException("--backend " + name + ": " + e.getMessage() + " (run 'aiwae devices')");
        }
    }

    private static Backend announce(String name, DeviceBackend d) {
        System.err.println("aiwae: backend " + name + " on " + d.device().name());
        return d;
    }

    /** The backend's name as a Backend gives it ({@code cuda} for cuda:N: every CUDA device computes the same). */
    static String api(String name) {
        return CUDA_DEVICE.matcher(name).matches() ? "cuda" : name;
    }

    private static String choices() {
        return "cpu, opencl, cuda, cuda:N (CUDA device N) or auto";
    }

    static final class Candidates extends java.util.ArrayList<String> {
        Candidates() {
            super(NAMES);
        }
    }

    static final class Name implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!NAMES.contains(value) && !CUDA_DEVICE.matcher(value).matches()) {
                throw new TypeConversionException("unknown backend '" + value + "'; choose " + choices());
            }
            return value;
        }
    }
}
