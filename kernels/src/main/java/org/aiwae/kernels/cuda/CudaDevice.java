package org.aiwae.kernels.cuda;

import static jcuda.driver.JCudaDriver.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.function.ToLongFunction;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import org.aiwae.kernels.BackendUnavailableException;
import org.aiwae.kernels.Device;
import org.aiwae.kernels.KernelCall;

/**
 * A CUDA GPU through JCuda's driver API, running {@code aiwae.fatbin}: the one kernel body compiled by
 * nvcc at build time ({@code kernels/build-cuda.sh}) to PTX for compute_75, which the driver JIT-compiles
 * on any Turing-or-newer GPU, plus sm_90 machine code. Both are CUDA 13's: the driver must be R580 or newer.
 *
 * <p>Everything runs in the device's primary context on one stream the device creates (non-blocking
 * with respect to the legacy default stream), so launches, device copies and fills execute in the order
 * they are issued and the host waits only where it reads: a read copies into pinned host memory and
 * synchronises the stream. A write is an asynchronous copy from the Java array (pageable memory, which
 * the driver stages before the call returns). A launch passes its arguments packed into one parameter
 * block ({@link LaunchParams}, {@code CU_LAUNCH_PARAM_BUFFER_POINTER}), one JNI call with no per-argument
 * marshalling. Every entry point makes the context current on the calling thread first, so any thread
 * may use the device (one at a time: the methods are synchronized).
 */
public final class CudaDevice implements Device {
    /** CUDA's limit on gridDim.y (gridDim.x may reach 2^31 - 1). */
    private static final int MAX_GRID_Y = 65535;

    private final CUdevice device;
    private final String name;
    private final CUcontext context;
    private final CUmodule module;
    private final CUstream stream;
    private final Map<String, CUfunction> functions = new HashMap<>();
    /** Pinned host memory holding the launch parameter block ({@link LaunchParams}); {@link #extra} points at it. */
    private final Address launchBlock = new Address();
    private final LaunchParams params;
    private final Pointer extra;
    private final ToLongFunction<Buffer> addressOf = this::address;
    private final Ptr dummy;
    /** Pinned host memory that reads land in, grown to the largest read so far. */
    private Address staging;
    private FloatBuffer stagingFloats;
    private boolean closed;

    /** A device allocation and its address (read once, for the parameter blocks). */
    private record Ptr(CUdeviceptr ptr, long address, long floats) implements Buffer {}

    /** A device pointer whose address Java can read ({@code cuMemAlloc} fills it in). */
    private static final class DevicePtr extends CUdeviceptr {
        long address() {
            return getNativePointer();
        }
    }

    /** A host pointer at a native address (pinned memory from {@code cuMemAllocHost}, or a block of {@link LaunchParams}). */
    private static final class Address extends Pointer {
        Address() {}

        Address(long address) {
            super(address);
        }

        long address() {
            return getNativePointer();
        }
    }

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
            stream = new CUstream();
            cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
            cuMemAllocHost(launchBlock, LaunchParams.BLOCK_BYTES);
            params = new LaunchParams(launchBlock.getByteBuffer(0, LaunchParams.BLOCK_BYTES).order(ByteOrder.nativeOrder()),
                    launchBlock.address());
            extra = new Address(launchBlock.address());
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
        DevicePtr p = new DevicePtr();
        cuMemAlloc(p, Math.max(floats, 1) * Sizeof.FLOAT);
        return new Ptr(p, p.address(), floats);
    }

    /** Frees {@code b} once the work issued so far (which may use it) has run. */
    @Override
    public synchronized void free(Buffer b) {
        current();
        cuStreamSynchronize(stream);
        cuMemFree(((Ptr) b).ptr());
    }

    @Override
    public void write(Buffer dst, float[] src, int off, int n) {
        write(dst, 0, src, off, n);
    }

    @Override
    public void read(Buffer src, float[] dst, int off, int n) {
        read(src, 0, dst, off, n);
    }

    @Override
    public synchronized void write(Buffer dst, long dstOff, float[] src, int off, int n) {
        if (n > 0) {
            current();
            cuMemcpyHtoDAsync(at(dst, dstOff), Pointer.to(src).withByteOffset((long) off * Sizeof.FLOAT), (long) n * Sizeof.FLOAT, stream);
        }
    }

    /** Copies into the pinned staging memory on the stream, waits for the stream, then copies into {@code dst}. */
    @Override
    public synchronized void read(Buffer src, long srcOff, float[] dst, int off, int n) {
        if (n > 0) {
            current();
            FloatBuffer host = staging(n);
            cuMemcpyDtoHAsync(staging, at(src, srcOff), (long) n * Sizeof.FLOAT, stream);
            cuStreamSynchronize(stream);
            host.get(0, dst, off, n);
        }
    }

    /** The pinned staging memory, at least {@code n} floats (a power of two from 1024). */
    private FloatBuffer staging(int n) {
        if (stagingFloats == null || stagingFloats.capacity() < n) {
            int floats = Math.max(1024, Integer.highestOneBit(Math.max(n - 1, 1)) << 1);
            if (staging != null) {
                cuMemFreeHost(staging);
            }
            staging = new Address();
            cuMemAllocHost(staging, (long) floats * Sizeof.FLOAT);
            stagingFloats = staging.getByteBuffer(0, (long) floats * Sizeof.FLOAT).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
        return stagingFloats;
    }

    @Override
    public synchronized void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n) {
        if (n > 0) {
            current();
            cuMemcpyDtoDAsync(at(dst, dstOff), at(src, srcOff), n * Sizeof.FLOAT, stream);
        }
    }

    @Override
    public synchronized void fill(Buffer dst, long off, long n, float value) {
        if (n > 0) {
            current();
            cuMemsetD32Async(at(dst, off), Float.floatToRawIntBits(value), n, stream);
        }
    }

    /** The device address of element {@code off} of {@code b}. */
    private static CUdeviceptr at(Buffer b, long off) {
        CUdeviceptr base = ((Ptr) b).ptr();
        return off == 0 ? base : base.withByteOffset(off * Sizeof.FLOAT);
    }

    @Override
    public void copy(Buffer src, Buffer dst, long floats) {
        copy(src, 0, dst, 0, floats);
    }

    /** The device address of a buffer argument; a null buffer is the placeholder. */
    private long address(Buffer b) {
        return (b == null ? dummy : (Ptr) b).address();
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
        CUfunction f = functions.get(call.name());
        if (f == null) {
            f = new CUfunction();
            cuModuleGetFunction(f, module, call.name());
            functions.put(call.name(), f);
        }
        params.pack(call.args(), addressOf);
        // grid = the groups, block = one group's work-items (OpenCL: global = groups x local); no dynamic shared memory
        cuLaunchKernel(f, g.groupsX(), g.groupsY(), 1, g.localX(), g.localY(), 1, 0, stream, null, extra);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        current();
        cuStreamSynchronize(stream);
        cuMemFree(dummy.ptr());
        if (staging != null) {
            cuMemFreeHost(staging);
        }
        cuStreamDestroy(stream);
        cuModuleUnload(module);
        closed = true;
        functions.clear();
        cuMemFreeHost(launchBlock);
        cuDevicePrimaryCtxRelease(device);
    }
}
