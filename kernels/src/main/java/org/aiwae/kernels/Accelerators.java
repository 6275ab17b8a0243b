package org.aiwae.kernels;

import java.util.ArrayList;
import java.util.List;
import org.aiwae.kernels.cuda.CudaDevice;
import org.aiwae.kernels.opencl.OpenClDevice;

/** Opens the device backends by name and lists what this machine can use. */
public final class Accelerators {
    private Accelerators() {}

    /** One line of {@code aiwae devices}. */
    public record Status(String backend, boolean usable, String detail) {}

    /**
     * {@code opencl} (a GPU when there is one, else any OpenCL device) or {@code cuda}; throws
     * {@link BackendUnavailableException} with the reason otherwise, a missing JOCL or JCuda jar included (both are
     * optional at run time for a program that computes on the CPU).
     */
    public static DeviceBackend open(String api) {
        return switch (api) {
            case "opencl" -> openCl(false);
            case "cuda" -> cuda(0);
            default -> throw new IllegalArgumentException("unknown device backend " + api);
        };
    }

    /** CUDA device {@code ordinal} (0 is what {@code open("cuda")} opens); throws with the reason otherwise. */
    public static DeviceBackend cuda(int ordinal) {
        try {
            return new DeviceBackend(CudaDevice.open(ordinal));
        } catch (NoClassDefFoundError e) {
            throw missing("CUDA", "JCuda (org.jcuda:jcuda)", e);
        }
    }

    private static DeviceBackend openCl(boolean gpuOnly) {
        try {
            return new DeviceBackend(OpenClDevice.open(gpuOnly));
        } catch (NoClassDefFoundError e) {
            throw missing("OpenCL", "JOCL (org.jocl:jocl)", e);
        }
    }

    /** The one line for a device library that is not on the class path (a class of it failed to load). */
    private static BackendUnavailableException missing(String api, String library, NoClassDefFoundError e) {
        return new BackendUnavailableException(api + ": " + library + " is not on the class path (" + e.getMessage() + " not found)");
    }

    /** {@code auto}: CUDA, then an OpenCL GPU; null when neither is usable (the caller takes the CPU). */
    public static DeviceBackend auto() {
        try {
            return cuda(0);
        } catch (BackendUnavailableException e) {
            try {
                return openCl(true);
            } catch (BackendUnavailableException e2) {
                return null;
            }
        }
    }

    /** What each backend would run on, or why it cannot. */
    public static List<Status> list() {
        List<Status> out = new ArrayList<>();
        try (CudaDevice d = CudaDevice.open()) {
            out.add(new Status("cuda", true, d.name()));
        } catch (BackendUnavailableException e) {
            out.add(new Status("cuda", false, e.getMessage()));
        } catch (NoClassDefFoundError e) {
            out.add(new Status("cuda", false, missing("CUDA", "JCuda (org.jcuda:jcuda)", e).getMessage()));
        }
        try {
            List<OpenClDevice.Found> found = OpenClDevice.devices();
            if (found.isEmpty()) {
                out.add(new Status("opencl", false, "OpenCL: no OpenCL device (install an ICD, e.g. apt-get install pocl-opencl-icd ocl-icd-opencl-dev)"));
            }
            for (OpenClDevice.Found f : found) {
                out.add(new Status("opencl", true, f.name() + (f.gpu() ? " (GPU)" : " (not a GPU: --backend auto skips it)")));
            }
        } catch (BackendUnavailableException e) {
            out.add(new Status("opencl", false, e.getMessage()));
        } catch (NoClassDefFoundError e) {
            out.add(new Status("opencl", false, missing("OpenCL", "JOCL (org.jocl:jocl)", e).getMessage()));
        }
        return out;
    }
}
