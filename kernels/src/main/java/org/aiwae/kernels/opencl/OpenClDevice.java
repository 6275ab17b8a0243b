package org.aiwae.kernels.opencl;

import static org.jocl.CL.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.aiwae.kernels.BackendUnavailableException;
import org.aiwae.kernels.Device;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;

/** An OpenCL device through JOCL, running {@code aiwae.cl}. PoCL makes the CPU one (the CI runs the tests on it). */
public final class OpenClDevice implements Device {
    private final cl_device_id id;
    private final String name;
    private final cl_context context;
    private final cl_command_queue queue;
    private final cl_program program;
    private final cl_kernel sgemm;
    private final cl_kernel rows;
    private final Mem dummy;

    private record Mem(cl_mem mem, long floats) implements Buffer {}

    /** An OpenCL device found on this machine. */
    public record Found(cl_platform_id platform, cl_device_id device, String name, boolean gpu) {}

    private OpenClDevice(Found found) {
        this.id = found.device();
        this.name = found.name();
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, found.platform());
        context = clCreateContext(props, 1, new cl_device_id[] {id}, null, null, null);
        @SuppressWarnings("deprecation")
        cl_command_queue q = clCreateCommandQueue(context, id, 0, null);
        queue = q;
        program = clCreateProgramWithSource(context, 1, new String[] {source()}, null, null);
        try {
            clBuildProgram(program, 0, null, "-cl-std=CL1.2", null, null);
        } catch (CLException e) {
            throw new BackendUnavailableException("OpenCL: aiwae.cl does not build on " + name + ": " + buildLog());
        }
        sgemm = clCreateKernel(program, "sgemm", null);
        rows = clCreateKernel(program, "bernoulli_rows", null);
        dummy = (Mem) alloc(1);
    }

    /** Every OpenCL device, GPUs first; empty when there is no OpenCL runtime. Throws with the reason when the library is missing. */
    public static List<Found> devices() {
        try {
            CL.setExceptionsEnabled(true);
            int[] count = new int[1];
            try {
                clGetPlatformIDs(0, null, count);
            } catch (CLException e) { // CL_PLATFORM_NOT_FOUND_KHR: an ICD loader without platforms
                return List.of();
            }
            cl_platform_id[] platforms = new cl_platform_id[count[0]];
            clGetPlatformIDs(count[0], platforms, null);
            List<Found> gpus = new ArrayList<>(), others = new ArrayList<>();
            for (cl_platform_id p : platforms) {
                int[] n = new int[1];
                try {
                    clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
                } catch (CLException e) {
                    continue;
                }
                cl_device_id[] ds = new cl_device_id[n[0]];
                clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, n[0], ds, null);
                for (cl_device_id d : ds) {
                    long[] type = new long[1];
                    clGetDeviceInfo(d, CL_DEVICE_TYPE, Sizeof.cl_long, Pointer.to(type), null);
                    boolean gpu = (type[0] & CL_DEVICE_TYPE_GPU) != 0;
                    (gpu ? gpus : others).add(new Found(p, d, deviceName(d), gpu));
                }
            }
            gpus.addAll(others);
            return gpus;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new BackendUnavailableException("OpenCL: no OpenCL runtime (install an ICD, e.g. apt-get install pocl-opencl-icd ocl-icd-opencl-dev)");
        }
    }

    /** Opens the first device (a GPU when there is one), or the first GPU when {@code gpuOnly}. */
    public static OpenClDevice open(boolean gpuOnly) {
        List<Found> found = devices();
        for (Found f : found) {
            if (f.gpu() || !gpuOnly) {
                try {
                    return new OpenClDevice(f);
                } catch (CLException e) {
                    throw new BackendUnavailableException("OpenCL: cannot use " + f.name() + ": " + e.getMessage());
                }
            }
        }
        throw new BackendUnavailableException(found.isEmpty()
                ? "OpenCL: no OpenCL device (install an ICD, e.g. apt-get install pocl-opencl-icd ocl-icd-opencl-dev)"
                : "OpenCL: no OpenCL GPU (devices: " + found.stream().map(Found::name).toList() + ")");
    }

    private static String deviceName(cl_device_id d) {
        long[] size = new long[1];
        clGetDeviceInfo(d, CL_DEVICE_NAME, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetDeviceInfo(d, CL_DEVICE_NAME, buf.length, Pointer.to(buf), null);
        return new String(buf, 0, Math.max(0, buf.length - 1), StandardCharsets.UTF_8).strip();
    }

    private static String source() {
        try (InputStream in = OpenClDevice.class.getResourceAsStream("aiwae.cl")) {
            if (in == null) {
                throw new BackendUnavailableException("OpenCL: aiwae.cl is missing from the kernels jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BackendUnavailableException("OpenCL: cannot read aiwae.cl: " + e.getMessage());
        }
    }

    private String buildLog() {
        long[] size = new long[1];
        clGetProgramBuildInfo(program, id, CL_PROGRAM_BUILD_LOG, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetProgramBuildInfo(program, id, CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf), null);
        return new String(buf, StandardCharsets.UTF_8).strip().replace('\n', ' ');
    }

    @Override
    public String api() {
        return "opencl";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Buffer alloc(long floats) {
        return new Mem(clCreateBuffer(context, CL_MEM_READ_WRITE, Math.max(floats, 1) * Sizeof.cl_float, null, null), floats);
    }

    @Override
    public void free(Buffer b) {
        clReleaseMemObject(((Mem) b).mem());
    }

    @Override
    public void write(Buffer dst, float[] src, int off, int n) {
        if (n > 0) {
            clEnqueueWriteBuffer(queue, ((Mem) dst).mem(), CL_TRUE, 0, (long) n * Sizeof.cl_float,
                    Pointer.to(src).withByteOffset((long) off * Sizeof.cl_float), 0, null, null);
        }
    }

    @Override
    public void read(Buffer src, float[] dst, int off, int n) {
        if (n > 0) {
            clEnqueueReadBuffer(queue, ((Mem) src).mem(), CL_TRUE, 0, (long) n * Sizeof.cl_float,
                    Pointer.to(dst).withByteOffset((long) off * Sizeof.cl_float), 0, null, null);
        }
    }

    private Mem mem(Buffer b) {
        return b == null ? dummy : (Mem) b;
    }

    private void args(cl_kernel k, Object... values) {
        for (int i = 0; i < values.length; i++) {
            Object v = values[i];
            if (v == null) {
                clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to(dummy.mem()));
            } else if (v instanceof Mem m) {
                clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to(m.mem()));
            } else if (v instanceof Boolean b) {
                clSetKernelArg(k, i, Sizeof.cl_int, Pointer.to(new int[] {b ? 1 : 0}));
            } else if (v instanceof Long l) {
                clSetKernelArg(k, i, Sizeof.cl_long, Pointer.to(new long[] {l}));
            } else if (v instanceof Float f) {
                clSetKernelArg(k, i, Sizeof.cl_float, Pointer.to(new float[] {f}));
            } else if (v instanceof Double d) {
                clSetKernelArg(k, i, Sizeof.cl_double, Pointer.to(new double[] {d}));
            } else {
                clSetKernelArg(k, i, Sizeof.cl_int, Pointer.to(new int[] {(Integer) v}));
            }
        }
    }

    private final java.util.Map<String, cl_kernel> kernels = new java.util.HashMap<>();

    @Override
    public synchronized void run(String kernelName, int items, Object... values) {
        if (items <= 0) {
            return;
        }
        cl_kernel k = kernels.computeIfAbsent(kernelName, nm -> clCreateKernel(program, nm, null));
        args(k, values);
        long local = 64, global = (items + local - 1) / local * local;
        clEnqueueNDRangeKernel(queue, k, 1, null, new long[] {global}, new long[] {local}, 0, null, null);
    }

    @Override
    public synchronized void copy(Buffer src, Buffer dst, long floats) {
        if (floats > 0) {
            clEnqueueCopyBuffer(queue, ((Mem) src).mem(), ((Mem) dst).mem(), 0, 0, floats * Sizeof.cl_float, 0, null, null);
        }
    }

    @Override
    public void readDoubles(Buffer src, double[] dst, int n) {
        if (n > 0) {
            clEnqueueReadBuffer(queue, ((Mem) src).mem(), CL_TRUE, 0, (long) n * Sizeof.cl_double, Pointer.to(dst), 0, null, null);
        }
    }

    @Override
    public synchronized void sgemm(int m, int n, int k, Buffer a, int aoff, int lda, boolean ta, Buffer b, int boff, int ldb,
                                   boolean tb, Buffer c, int coff, int ldc, boolean accumulate, Buffer bias, Buffer aux, int epilogue) {
        args(sgemm, m, n, k, mem(a), aoff, lda, ta, mem(b), boff, ldb, tb, mem(c), coff, ldc, accumulate, mem(bias), mem(aux), epilogue);
        long gx = (n + 15) / 16 * 16L, gy = (m + 15) / 16 * 16L;
        clEnqueueNDRangeKernel(queue, sgemm, 2, null, new long[] {gx, gy}, new long[] {16, 16}, 0, null, null);
    }

    @Override
    public synchronized void bernoulliRows(int nRows, int data, int batch, int latent, Buffer logits, Buffer x, Buffer z, Buffer g,
                                           Buffer logp, boolean wantGrad) {
        args(rows, nRows, data, batch, latent, mem(logits), mem(x), mem(z), mem(g), mem(logp), wantGrad);
        clEnqueueNDRangeKernel(queue, rows, 1, null, new long[] {64L * nRows}, new long[] {64}, 0, null, null);
    }

    @Override
    public void close() {
        kernels.values().forEach(org.jocl.CL::clReleaseKernel);
        free(dummy);
        clReleaseKernel(sgemm);
        clReleaseKernel(rows);
        clReleaseProgram(program);
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }
}
