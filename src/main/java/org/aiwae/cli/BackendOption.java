package org.aiwae.cli;

import java.util.List;
import org.aiwae.AiwaeException;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.kernels.Accelerators;
import org.aiwae.kernels.BackendUnavailableException;
import org.aiwae.kernels.DeviceBackend;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --backend}: cpu, opencl, cuda, or auto (CUDA, then an OpenCL GPU, then the CPU). A picocli mixin. */
final class BackendOption {
    static final List<String> NAMES = List.of("cpu", "opencl", "cuda", "auto");

    @Option(names = "--backend", paramLabel = "BACKEND", defaultValue = "cpu", converter = Name.class,
            completionCandidates = Candidates.class,
            description = "${COMPLETION-CANDIDATES}: where the arithmetic runs (auto: CUDA, then an OpenCL GPU, then the CPU); "
                    + "default: ${DEFAULT-VALUE}")
    String name;

    /** Opens the chosen backend; the caller closes it (a device backend frees its memory). */
    Backend open() {
        return open(name);
    }

    /** Opens the backend {@code name}; the caller closes it. */
    static Backend open(String name) {
        try {
            return switch (name) {
                case "cpu" -> Backends.cpu();
                case "opencl", "cuda" -> announce(Accelerators.open(name));
                case "auto" -> {
                    DeviceBackend d = Accelerators.auto();
                    yield d == null ? Backends.cpu() : announce(d);
                }
                default -> throw new AiwaeException("unknown backend '" + name + "'; choose " + String.join(", ", NAMES));
            };
        } catch (BackendUnavailableException e) {
            throw new AiwaeException("--backend " + name + ": " + e.getMessage() + " (run 'aiwae devices')");
        }
    }

    private static Backend announce(DeviceBackend d) {
        System.err.println("aiwae: backend " + d.name() + " on " + d.device().name());
        return d;
    }

    static final class Candidates extends java.util.ArrayList<String> {
        Candidates() {
            super(NAMES);
        }
    }

    static final class Name implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!NAMES.contains(value)) {
                throw new TypeConversionException("unknown backend '" + value + "'; choose " + String.join(", ", NAMES));
            }
            return value;
        }
    }
}
