package org.aiwae.kernels.opencl;

import static org.jocl.CL.*;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.aiwae.kernels.BackendUnavailableException;
import org.aiwae.kernels.Device;
import org.aiwae.kernels.KernelCall;
import org.aiwae.kernels.KernelSource;
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

/**
 * An OpenCL device through JOCL, running the program {@link KernelSource#opencl()} (the OpenCL dialect
 * header and the one kernel body). PoCL makes the CPU one (the CI runs the tests on it). One in-order
 * queue; the methods are synchronized, so any thread may use the device, one at a time.
 *
 * <p>{@link #record} keeps the commands instead of enqueueing them: each launch with a kernel object of its
 * own whose arguments are set once, each copy and fill with its operands; a replay enqueues the list.
 */
public final class OpenClDevice implements Device {
    private final cl_device_id id;
    private final String name;
    private final cl_context context;
    private final cl_command_queue queue;
    private final cl_program program;
    private final Map<String, Kernel> kernels = new HashMap<>();
    private final Mem dummy;
    /** The commands being recorded ({@link #record}), or null; only the recording thread can see it set. */
    private List<Command> recording;
    /** The recordings not closed yet, released with the device. */
    private final List<Commands> recordings = new ArrayList<>();

    /** A buffer and the argument value that passes it to a kernel. */
    private record Mem(cl_mem mem, long floats, Pointer arg) implements Buffer {}

    /**
     * A kernel object of the program, the number of arguments it declares, and what each argument was last set
     * to (a {@link Mem}, or the scalar {@link KernelCall.Arg}; null before the first): a launch sets only the
     * arguments that changed, since the values set stay with the kernel object.
     */
    private record Kernel(cl_kernel kernel, int args, Object[] set) {
        Kernel(cl_kernel kernel, int args) {
            this(kernel, args, new Object[args]);
        }
    }

    /** Where scalar argument values are staged for {@code clSetKernelArg} (which copies them). */
    private final int[] intArg = new int[1];
    private final long[] longArg = new long[1];
    private final float[] floatArg = new float[1];
    private final Pointer intArgRef = Pointer.to(intArg), longArgRef = Pointer.to(longArg), floatArgRef = Pointer.to(floatArg);

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
        program = clCreateProgramWithSource(context, 1, new String[] {KernelSource.opencl()}, null, null);
        try {
            clBuildProgram(program, 0, null, "-cl-std=CL1.2", null, null);
        } catch (CLException e) {
            throw new BackendUnavailableException("OpenCL: the kernels (aiwae_body.h) do not build on " + name + ": " + buildLog());
        }
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
        cl_mem mem = clCreateBuffer(context, CL_MEM_READ_WRITE, Math.max(floats, 1) * Sizeof.cl_float, null, null);
        return new Mem(mem, floats, Pointer.to(mem));
    }

    @Override
    public void free(Buffer b) {
        clReleaseMemObject(((Mem) b).mem());
    }

    /** A host read or write is an error while recording. */
    private void hostTransfer(String what) {
        if (recording != null) {
            throw Device.hostTransferWhileRecording(this, what);
        }
    }

    /** The kernels' names in the built program, as the OpenCL runtime lists them. */
    public String[] kernelNames() {
        long[] size = new long[1];
        clGetProgramInfo(program, CL_PROGRAM_KERNEL_NAMES, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetProgramInfo(program, CL_PROGRAM_KERNEL_NAMES, buf.length, Pointer.to(buf), null);
        String names = new String(buf, 0, Math.max(0, buf.length - 1), StandardCharsets.UTF_8).strip();
        return names.isEmpty() ? new String[0] : names.split(";");
    }

    @Override
    public synchronized void write(Buffer dst, long dstOff, float[] src, int off, int n) {
        hostTransfer("write");
        if (n > 0) {
            clEnqueueWriteBuffer(queue, ((Mem) dst).mem(), CL_TRUE, dstOff * Sizeof.cl_float, (long) n * Sizeof.cl_float,
                    Pointer.to(src).withByteOffset((long) off * Sizeof.cl_float), 0, null, null);
        }
    }

    @Override
    public synchronized void read(Buffer src, long srcOff, float[] dst, int off, int n) {
        hostTransfer("read");
        if (n > 0) {
            clEnqueueReadBuffer(queue, ((Mem) src).mem(), CL_TRUE, srcOff * Sizeof.cl_float, (long) n * Sizeof.cl_float,
                    Pointer.to(dst).withByteOffset((long) off * Sizeof.cl_float), 0, null, null);
        }
    }

    @Override
    public synchronized void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n) {
        if (n > 0) {
            issue(new Copy(((Mem) src).mem(), srcOff * Sizeof.cl_float, ((Mem) dst).mem(), dstOff * Sizeof.cl_float, n * Sizeof.cl_float));
        }
    }

    @Override
    public synchronized void fill(Buffer dst, long off, long n, float value) {
        if (n > 0) {
            issue(new Fill(((Mem) dst).mem(), Pointer.to(new float[] {value}), off * Sizeof.cl_float, n * Sizeof.cl_float));
        }
    }

    /** Enqueues {@code c}, or records it while recording. */
    private void issue(Command c) {
        if (recording != null) {
            recording.add(c);
        } else {
            c.enqueue(queue);
        }
    }

    @Override
    public synchronized void launch(KernelCall call) {
        KernelCall.Grid g = call.grid();
        if (g.empty()) {
            return;
        }
        Kernel kernel = kernels.computeIfAbsent(call.name(), this::create);
        if (kernel.args() != call.args().size()) {
            throw new IllegalArgumentException(call.name() + " takes " + kernel.args() + " arguments, not " + call.args().size());
        }
        long[] local = g.dims() == 1 ? new long[] {g.localX()} : new long[] {g.localX(), g.localY()};
        long[] global = g.dims() == 1 ? new long[] {(long) g.groupsX() * g.localX()}
                : new long[] {(long) g.groupsX() * g.localX(), (long) g.groupsY() * g.localY()};
        if (recording != null) { // a recorded launch gets a kernel object of its own, its arguments set once
            Kernel own = create(call.name());
            try {
                setArgs(own, call);
            } catch (RuntimeException e) {
                clReleaseKernel(own.kernel());
                throw e;
            }
            recording.add(new Launch(own.kernel(), g.dims(), global, local));
        } else {
            setArgs(kernel, call);
            clEnqueueNDRangeKernel(queue, kernel.kernel(), g.dims(), null, global, local, 0, null, null);
        }
    }

    /** Sets the arguments of {@code k} that differ from what they were last set to. */
    private void setArgs(Kernel k, KernelCall call) {
        Object[] set = k.set();
        for (int i = 0; i < set.length; i++) {
            KernelCall.Arg a = call.args().get(i);
            if (a instanceof KernelCall.Arg.Buf b) {
                Mem m = b.buffer() == null ? dummy : (Mem) b.buffer();
                if (set[i] != m) {
                    clSetKernelArg(k.kernel(), i, Sizeof.cl_mem, m.arg());
                    set[i] = m;
                }
            } else if (!a.equals(set[i])) {
                switch (a) {
                    case KernelCall.Arg.I32 v -> {
                        intArg[0] = v.value();
                        clSetKernelArg(k.kernel(), i, Sizeof.cl_int, intArgRef);
                    }
                    case KernelCall.Arg.I64 v -> {
                        longArg[0] = v.value();
                        clSetKernelArg(k.kernel(), i, Sizeof.cl_long, longArgRef);
                    }
                    case KernelCall.Arg.F32 v -> {
                        floatArg[0] = v.value();
                        clSetKernelArg(k.kernel(), i, Sizeof.cl_float, floatArgRef);
                    }
                    case KernelCall.Arg.Buf b -> throw new AssertionError(b);
                }
                set[i] = a;
            }
        }
    }

    /** A new kernel object of the program and the number of arguments it declares. */
    private Kernel create(String name) {
        cl_kernel created = clCreateKernel(program, name, null);
        int[] declared = new int[1];
        clGetKernelInfo(created, CL_KERNEL_NUM_ARGS, Sizeof.cl_uint, Pointer.to(declared), null);
        return new Kernel(created, declared[0]);
    }

    /** One command of the queue, as a recording keeps it. */
    private sealed interface Command {
        void enqueue(cl_command_queue queue);

        /** Releases what the command owns (a recorded launch's kernel object). */
        default void release() {}
    }

    /** A recorded launch: its own kernel object, the arguments set. */
    private record Launch(cl_kernel kernel, int dims, long[] global, long[] local) implements Command {
        @Override
        public void enqueue(cl_command_queue queue) {
            clEnqueueNDRangeKernel(queue, kernel, dims, null, global, local, 0, null, null);
        }

        @Override
        public void release() {
            clReleaseKernel(kernel);
        }
    }

    private record Copy(cl_mem src, long srcOffset, cl_mem dst, long dstOffset, long bytes) implements Command {
        @Override
        public void enqueue(cl_command_queue queue) {
            clEnqueueCopyBuffer(queue, src, dst, srcOffset, dstOffset, bytes, 0, null, null);
        }
    }

    private record Fill(cl_mem dst, Pointer pattern, long offset, long bytes) implements Command {
        @Override
        public void enqueue(cl_command_queue queue) {
            clEnqueueFillBuffer(queue, dst, pattern, Sizeof.cl_float, offset, bytes, 0, null, null);
        }
    }

    @Override
    public synchronized Recording record(Runnable issue) {
        if (recording != null) {
            throw nested();
        }
        List<Command> commands = new ArrayList<>();
        recording = commands;
        try {
            issue.run();
        } catch (RuntimeException | Error e) {
            commands.forEach(Command::release);
            throw e;
        } finally {
            recording = null;
        }
        Commands r = new Commands(List.copyOf(commands));
        recordings.add(r);
        return r;
    }

    private IllegalStateException nested() {
        return new IllegalStateException("a recording or replay inside a recording on opencl (" + name + "): recordings do not nest");
    }

    /** A recorded command list: a replay enqueues it. */
    private final class Commands implements Recording {
        private List<Command> commands;

        Commands(List<Command> commands) {
            this.commands = commands;
        }

        @Override
        public void replay() {
            synchronized (OpenClDevice.this) {
                if (commands == null) {
                    throw new IllegalStateException("replay of a closed recording on opencl (" + name + ")");
                }
                if (recording != null) {
                    throw nested();
                }
                for (Command c : commands) {
                    c.enqueue(queue);
                }
            }
        }

        @Override
        public void close() {
            synchronized (OpenClDevice.this) {
                if (commands != null) {
                    commands.forEach(Command::release);
                    commands = null;
                    recordings.remove(this);
                }
            }
        }
    }

    @Override
    public synchronized void close() {
        for (Commands r : List.copyOf(recordings)) {
            r.close();
        }
        kernels.values().forEach(k -> clReleaseKernel(k.kernel()));
        kernels.clear();
        free(dummy);
        clReleaseProgram(program);
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }
}
