package org.aiwae.bench;

import java.util.concurrent.TimeUnit;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.kernels.Device;
import org.aiwae.kernels.DeviceBackend;
import org.aiwae.kernels.Kernels;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Purpose: the host cost of one kernel launch on a device backend, the way the tensor primitives issue it
 * ({@link Kernels} through the backend's counting device): {@code binary_op} or {@code sgemm}
 * (18 arguments each) on 16 x 16 operands allocated once. One operation is one launch; each invocation issues
 * {@value #LAUNCHES} launches and then waits for the device (one float comes back).
 *
 * <p>On {@code cuda} through a no-op {@code libcuda.so.1} (a stub
 * driver whose entry points return at once, first on {@code LD_LIBRARY_PATH}) this is the host's time alone
 * (argument packing, JNI, the Java work around the launch). On {@code opencl} through PoCL it includes PoCL
 * running the tiny kernels on the same cores; the line {@code host CPU per launch} printed after each
 * iteration is the issuing thread's own CPU time ({@link HostCpu}), the host's share on either device. The CPU
 * backend has no launches: {@code -p backend=opencl} or {@code cuda}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LaunchBenchmark extends OnBackend {
    static final int LAUNCHES = 256;
    private static final int SIDE = 16;

    @Param({"binary_op", "sgemm"})
    public String kernel;

    private DeviceBackend device;
    private Kernels kernels;
    private Device.Buffer a, b, c;
    private final float[] one = new float[1];
    private final HostCpu cpu = new HostCpu();

    @Setup
    public void setup() {
        device = openDevice("LaunchBenchmark");
        kernels = device.kernels();
        Device d = device.device();
        a = d.alloc(SIDE * SIDE);
        b = d.alloc(SIDE * SIDE);
        c = d.alloc(SIDE * SIDE);
        float[] init = new float[SIDE * SIDE];
        java.util.Arrays.fill(init, 0.5f);
        d.write(a, init, 0, init.length);
        d.write(b, init, 0, init.length);
    }

    @TearDown(Level.Iteration)
    public void reportCpu() {
        cpu.report("launch");
    }

    @TearDown
    public void tearDown() {
        Device d = device.device();
        d.free(a);
        d.free(b);
        d.free(c);
        be.close();
    }

    @Benchmark
    @OperationsPerInvocation(LAUNCHES)
    public float launch() {
        int[] dims = {1, 1, SIDE, SIDE}, dense = {0, 0, SIDE, 1}, row = {0, 0, 0, 1};
        Kernels.Matrix ma = Kernels.Matrix.of(a, SIDE), mb = Kernels.Matrix.of(b, SIDE).transpose(), mc = Kernels.Matrix.of(c, SIDE);
        boolean gemm = kernel.equals("sgemm");
        cpu.start();
        for (int i = 0; i < LAUNCHES; i++) {
            if (gemm) {
                kernels.sgemm(SIDE, SIDE, SIDE, ma, mb, mc, false, Kernels.Epilogue.NONE, null, null);
            } else {
                kernels.binaryOp(SIDE * SIDE, BinaryOp.MUL.ordinal(), dims, a, 0, dense, b, i % SIDE, row, c);
            }
        }
        cpu.stop(LAUNCHES);
        device.device().read(c, one, 0, 1);
        return one[0];
    }
}
