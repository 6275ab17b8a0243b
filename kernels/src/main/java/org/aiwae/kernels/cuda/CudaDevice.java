package org.aiwae.kernels.cuda;

import static jcuda.driver.JCudaDriver.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
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
 *
 * <p>{@link #record} captures the stream into a CUDA graph ({@code cuStreamBeginCapture} in thread-local
 * mode, which makes a call that is illegal while capturing an error rather than a silent synchronisation;
 * {@code cuStreamEndCapture}, {@code cuGraphInstantiate}); a replay is one {@code cuGraphLaunch} on the
 * stream. Allocations and frees while capturing run in relaxed capture mode (they are not stream work).
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
    /** Whether the stream is being captured ({@link #record}); only the recording thread can see it true. */
    private boolean capturing;
    /** The recordings not closed yet, destroyed with the device. */
    private final List<Graph> graphs = new ArrayList<>();
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
        return open(0);
    }

    /**
     * Opens the GPU of CUDA device ordinal {@code ordinal} (as {@code nvidia-smi} and CUDA_VISIBLE_DEVICES count),
     * or says in one line why it cannot; an ordinal the driver does not have names the ones it has.
     */
    public static CudaDevice open(int ordinal) {
        byte[] fatbin = fatbin();
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) {
                throw new BackendUnavailableException("CUDA: the driver reports no GPU");
            }
            if (ordinal < 0 || ordinal >= count[0]) {
                throw new BackendUnavailableException("CUDA: no device " + ordinal + "; the driver reports " + count[0] + " GPU"
                        + (count[0] == 1 ? " (device 0)" : "s (devices 0 to " + (count[0] - 1) + ")"));
            }
            CUdevice dev = new CUdevice();
            cuDeviceGet(dev, ordinal);
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
        int[] mode = relaxCapture();
        try {
            cuMemAlloc(p, Math.max(floats, 1) * Sizeof.FLOAT);
        } finally {
            restoreCapture(mode);
        }
        return new Ptr(p, p.address(), floats);
    }

    /**
     * Frees {@code b} once the work issued so far (which may use it) has run. While recording nothing has run
     * since the recording began ({@link #record} waits for the stream first), so it frees at once.
     */
    @Override
    public synchronized void free(Buffer b) {
        current();
        if (!capturing) {
            cuStreamSynchronize(stream);
        }
        int[] mode = relaxCapture();
        try {
            cuMemFree(((Ptr) b).ptr());
        } finally {
            restoreCapture(mode);
        }
    }

    /** While capturing: switches this thread to relaxed capture mode (allocations are legal) and returns the mode to restore; else null. */
    private int[] relaxCapture() {
        if (!capturing) {
            return null;
        }
        int[] mode = {CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED};
        cuThreadExchangeStreamCaptureMode(mode);
        return mode;
    }

    private void restoreCapture(int[] mode) {
        if (mode != null) {
            cuThreadExchangeStreamCaptureMode(mode);
        }
    }

    /** A host read or write is an error while recording. */
    private void hostTransfer(String what) {
        if (capturing) {
            throw Device.hostTransferWhileRecording(this, what);
        }
    }

    @Override
    public synchronized void write(Buffer dst, long dstOff, float[] src, int off, int n) {
        hostTransfer("write");
        if (n > 0) {
            current();
            cuMemcpyHtoDAsync(at(dst, dstOff), Pointer.to(src).withByteOffset((long) off * Sizeof.FLOAT), (long) n * Sizeof.FLOAT, stream);
        }
    }

    /** Copies into the pinned staging memory on the stream, waits for the stream, then copies into {@code dst}. */
    @Override
    public synchronized void read(Buffer src, long srcOff, float[] dst, int off, int n) {
        hostTransfer("read");
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

    /**
     * Captures the work {@code issue} enqueues into a CUDA graph. The stream is synchronised first, so that
     * nothing issued before is still running while buffers are allocated or freed during the capture.
     */
    @Override
    public synchronized Recording record(Runnable issue) {
        current();
        if (capturing) {
            throw nested();
        }
        cuStreamSynchronize(stream);
        cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        capturing = true;
        CUgraph graph = new CUgraph();
        try {
            issue.run();
        } catch (RuntimeException | Error e) {
            capturing = false;
            try {
                cuStreamEndCapture(stream, graph);
                cuGraphDestroy(graph);
            } catch (CudaException end) {
                e.addSuppressed(end);
            }
            throw e;
        }
        capturing = false;
        cuStreamEndCapture(stream, graph);
        CUgraphExec exec = new CUgraphExec();
        try {
            cuGraphInstantiate(exec, graph, 0);
        } finally {
            cuGraphDestroy(graph);
        }
        Graph g = new Graph(exec);
        graphs.add(g);
        return g;
    }

    private IllegalStateException nested() {
        return new IllegalStateException("a recording or replay inside a recording on cuda (" + name + "): recordings do not nest");
    }

    /** An instantiated graph: a replay is one {@code cuGraphLaunch} on the device's stream. */
    private final class Graph implements Recording {
        private CUgraphExec exec;

        Graph(CUgraphExec exec) {
            this.exec = exec;
        }

        @Override
        public void replay() {
            synchronized (CudaDevice.this) {
                if (exec == null) {
                    throw new IllegalStateException("replay of a closed recording on cuda (" + name + ")");
                }
                if (capturing) {
                    throw nested();
                }
                current();
                cuGraphLaunch(exec, stream);
            }
        }

        @Override
        public void close() {
            synchronized (CudaDevice.this) {
                if (exec != null) {
                    current();
                    cuGraphExecDestroy(exec); // one in flight finishes first (the driver frees it when done)
                    exec = null;
                    graphs.remove(this);
                }
            }
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        current();
        cuStreamSynchronize(stream);
        for (Graph g : graphs) {
            cuGraphExecDestroy(g.exec);
            g.exec = null;
        }
        graphs.clear();
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
