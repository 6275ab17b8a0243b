package org.aiwae.kernels.cuda;

import static jcuda.driver.JCudaDriver.*;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import org.aiwae.kernels.BackendUnavailableException;
import org.aiwae.kernels.Device;
import org.aiwae.kernels.KernelCall;

/**
 * A CUDA GPU through JCuda's driver API, running {@code aiwae.fatbin}: the one kernel body compiled by
 * nvcc at build time ({@code kernels/build-cuda.sh}) to PTX for compute_75, which the driver JIT-compiles
 * on any Turing-or-newer GPU, plus sm_90 machine code. Both are CUDA 13's: the driver must be R580 or newer.
 *
 * <p>Everything runs in the device's primary context on the legacy default stream, so launches and
 * copies execute in the order they are issued; every entry point makes the context current on the
 * calling thread first, so any thread may use the device (one at a time: the methods are synchronized).
 */
public final class CudaDevice implements Device {
    /** CUDA's limit on gridDim.y (gridDim.x may reach 2^31 - 1). */
    private static final int MAX_GRID_Y = 65535;

    private final CUdevice device;
    private final String name;
    private final CUcontext context;
    private final CUmodule module;
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Ptr dummy;
    private boolean closed;

    private record Ptr(CUdeviceptr ptr, long floats) implements Buffer {}

    private CudaDevice(CUdevice device, byte[] fatbin) {
        this.device = device;
        byte[] nameBytes = new byte[256];
        cuDeviceGetName(nameBytes, nameBytes.length, device);
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) {
            len++;
        }
        name = new String(nameBytes, 0, len).strip();
        context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        try {
            cuCtxSetCurrent(context);
            module = new CUmodule();
            try {
                cuModuleLoadData(module, fatbin);
            } catch (CudaException e) {
                int[] driver = new int[1];
                cuDriverGetVersion(driver);
                int[] major = new int[1], minor = new int[1];
                cuDeviceGetAttribute(major, jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
                cuDeviceGetAttribute(minor, jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
                throw new BackendUnavailableException("CUDA: the kernels do not load on " + name + " (compute capability " + major[0] + "."
                        + minor[0] + ", driver for CUDA " + driver[0] / 1000 + "." + driver[0] % 1000 / 10 + "): " + e.getMessage()
                        + "; they need compute capability 7.5 or newer and a driver for CUDA 13 (R580 or newer)");
            }
            dummy = (Ptr) alloc(1);
        } catch (RuntimeException e) {
            cuDevicePrimaryCtxRelease(device);
            throw e;
        }
    }

    /** The fatbin built into the jar, or a one-line reason why there is none. */
    static byte[] fatbin() {
        try (InputStream in = CudaDevice.class.getResourceAsStream("aiwae.fatbin")) {
            if (in == null) {
                throw new BackendUnavailableException("CUDA: this build has no CUDA kernels (nvcc was not found when the kernels module was built)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new BackendUnavailableException("CUDA: cannot read aiwae.fatbin: " + e.getMessage());
        }
    }

    /** Opens GPU 0, or says in one line why it cannot (no kernels in the jar, no driver, no GPU, a GPU or driver too old). */
    public static CudaDevice open() {
        byte[] fatbin = fatbin();
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) {
                throw new BackendUnavailableException("CUDA: the driver reports no GPU");
            }
            CUdevice dev = new CUdevice();
            cuDeviceGet(dev, 0);
            return new CudaDevice(dev, fatbin);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new BackendUnavailableException("CUDA: no NVIDIA driver (libcuda.so.1 not found)");
        } catch (CudaException e) {
            throw new BackendUnavailableException("CUDA: " + e.getMessage());
        }
    }

    /** Makes this device's context current on the calling thread (cheap; the driver keeps one current context per thread). */
    private void current() {
        if (closed) {
            throw new IllegalStateException("CUDA device " + name + " is closed");
        }
        cuCtxSetCurrent(context);
    }

    @Override
    public String api() {
        return "cuda";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public synchronized Buffer alloc(long floats) {
        current();
        CUdeviceptr p = new CUdeviceptr();
        cuMemAlloc(p, Math.max(floats, 1) * Sizeof.FLOAT);
        return new Ptr(p, floats);
    }

    @Override
    public synchronized void free(Buffer b) {
        current();
        cuMemFree(((Ptr) b).ptr());
    }

    @Override
    public synchronized void write(Buffer dst, float[] src, int off, int n) {
        if (n > 0) {
            current();
            cuMemcpyHtoD(((Ptr) dst).ptr(), Pointer.to(src).withByteOffset((long) off * Sizeof.FLOAT), (long) n * Sizeof.FLOAT);
        }
    }

    @Override
    public synchronized void read(Buffer src, float[] dst, int off, int n) {
        if (n > 0) {
            current();
            cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) off * Sizeof.FLOAT), ((Ptr) src).ptr(), (long) n * Sizeof.FLOAT);
        }
    }

    @Override
    public synchronized void write(Buffer dst, long dstOff, float[] src, int off, int n) {
        if (n > 0) {
            current();
            cuMemcpyHtoD(at(dst, dstOff), Pointer.to(src).withByteOffset((long) off * Sizeof.FLOAT), (long) n * Sizeof.FLOAT);
        }
    }

    @Override
    public synchronized void read(Buffer src, long srcOff, float[] dst, int off, int n) {
        if (n > 0) {
            current();
            cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) off * Sizeof.FLOAT), at(src, srcOff), (long) n * Sizeof.FLOAT);
        }
    }

    @Override
    public synchronized void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n) {
        if (n > 0) {
            current();
            cuMemcpyDtoD(at(dst, dstOff), at(src, srcOff), n * Sizeof.FLOAT);
        }
    }

    @Override
    public synchronized void fill(Buffer dst, long off, long n, float value) {
        if (n > 0) {
            current();
            cuMemsetD32(at(dst, off), Float.floatToRawIntBits(value), n);
        }
    }

    /** The device address of element {@code off} of {@code b}. */
    private static CUdeviceptr at(Buffer b, long off) {
        CUdeviceptr base = ((Ptr) b).ptr();
        return off == 0 ? base : base.withByteOffset(off * Sizeof.FLOAT);
    }

    @Override
    public synchronized void copy(Buffer src, Buffer dst, long floats) {
        if (floats > 0) {
            current();
            cuMemcpyDtoD(((Ptr) dst).ptr(), ((Ptr) src).ptr(), floats * Sizeof.FLOAT);
        }
    }

    /**
     * The kernel parameters as cuLaunchKernel takes them: an array of pointers, each to one argument's
     * value (a device pointer, an int, a long long, a float or a double), in the kernel's order.
     */
    private Pointer params(List<KernelCall.Arg> args) {
        Pointer[] ps = new Pointer[args.size()];
        for (int i = 0; i < ps.length; i++) {
            ps[i] = switch (args.get(i)) {
                case KernelCall.Arg.Buf b -> Pointer.to((b.buffer() == null ? dummy : (Ptr) b.buffer()).ptr());
                case KernelCall.Arg.I32 v -> Pointer.to(new int[] {v.value()});
                case KernelCall.Arg.I64 v -> Pointer.to(new long[] {v.value()});
                case KernelCall.Arg.F32 v -> Pointer.to(new float[] {v.value()});
            };
        }
        return Pointer.to(ps);
    }

    @Override
    public synchronized void launch(KernelCall call) {
        KernelCall.Grid g = call.grid();
        if (g.empty()) {
            return;
        }
        if (g.groupsY() > MAX_GRID_Y) {
            throw new IllegalArgumentException(call.name() + ": " + g.groupsY() + " groups in y, CUDA allows " + MAX_GRID_Y);
        }
        current();
        CUfunction f = functions.computeIfAbsent(call.name(), nm -> {
            CUfunction fn = new CUfunction();
            cuModuleGetFunction(fn, module, nm);
            return fn;
        });
        // grid = the groups, block = one group's work-items (OpenCL: global = groups x local); no dynamic shared memory
        cuLaunchKernel(f, g.groupsX(), g.groupsY(), 1, g.localX(), g.localY(), 1, 0, null, params(call.args()), null);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        current();
        cuMemFree(dummy.ptr());
        cuModuleUnload(module);
        closed = true;
        functions.clear();
        cuDevicePrimaryCtxRelease(device);
    }
}
