package org.aiwae.bench;

import java.util.concurrent.TimeUnit;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.backend.UnaryOp;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.kernels.DeviceBackend;
import org.aiwae.kernels.DeviceGraph;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Purpose: what recording saves the host. One operation runs a fixed sequence of tensor primitives (the forward
 * pass of the paper's decoder, 50 - 200 - 200 - 784 with tanh, on 16 rows, then a sigmoid, a row sum and a few
 * elementwise maps: {@value #OPS} device operations) and waits for it (one float comes back): {@code eager} issues
 * the primitives one by one (pool traffic, argument packing and one driver call each), {@code replay} replays them
 * recorded once ({@link DeviceBackend#record}: one {@code cuGraphLaunch} on CUDA, the recorded command list on
 * OpenCL). On {@code cuda} through a no-op {@code libcuda.so.1} (a stub
 * driver whose entry points return at once, first on {@code LD_LIBRARY_PATH}) this is the host's time
 * alone; on {@code opencl} through PoCL it includes PoCL running the kernels. The line {@code host CPU per run}
 * printed after each iteration is the issuing thread's own CPU time up to the wait ({@link HostCpu}). Devices
 * only: {@code -p backend=opencl} or {@code cuda}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class GraphBenchmark extends OnBackend {
    /** Device operations per run of the sequence: 3 products, their 3 fills, 3 bias adds, 2 tanh, sigmoid, 2 maps, a row sum. */
    static final int OPS = 15;
    private static final int ROWS = 16, LATENT = 50, HIDDEN = 200, DATA = 784;

    @Param({"eager", "replay"})
    public String mode;

    private DeviceBackend device;
    private Tensor z, w1, b1, w2, b2, w3, b3;
    private DeviceGraph<Tensor> graph;
    private final HostCpu cpu = new HostCpu();

    @Setup
    public void setup() {
        device = openDevice("GraphBenchmark");
        RandomStream rng = new RandomStream(3);
        z = rng.normal(ROWS, LATENT).to(device);
        w1 = rng.normal(HIDDEN, LATENT).to(device);
        b1 = rng.normal(1, HIDDEN).to(device);
        w2 = rng.normal(HIDDEN, HIDDEN).to(device);
        b2 = rng.normal(1, HIDDEN).to(device);
        w3 = rng.normal(DATA, HIDDEN).to(device);
        b3 = rng.normal(1, DATA).to(device);
        if (mode.equals("replay")) {
            graph = device.record(() -> {
                try (Backend.Reclaim scope = device.reclaim()) {
                    return sequence();
                }
            });
        }
    }

    /** The decoder's forward pass and a few maps; returns the row sums. */
    private Tensor sequence() {
        Tensor h1 = layer(z, w1, b1, true), h2 = layer(h1, w2, b2, true), logits = layer(h2, w3, b3, false);
        Tensor p = device.unary(UnaryOp.SIGMOID, logits);
        Tensor q = device.binary(BinaryOp.MUL, device.binary(BinaryOp.ADD, p, 1e-6f), 2f);
        return device.reduce(ReduceOp.SUM, q, 1);
    }

    private Tensor layer(Tensor in, Tensor w, Tensor b, boolean tanh) {
        Tensor out = device.zeros(in.dim(0), w.dim(0));
        device.matmul(in, false, w, true, out, false);
        Tensor biased = device.binary(BinaryOp.ADD, out, b);
        return tanh ? device.unary(UnaryOp.TANH, biased) : biased;
    }

    @TearDown(Level.Iteration)
    public void reportCpu() {
        cpu.report("run");
    }

    @TearDown
    public void tearDown() {
        if (graph != null) {
            graph.close();
        }
        be.close();
    }

    @Benchmark
    public float run() {
        cpu.start();
        if (graph != null) {
            graph.replay();
            cpu.stop(1);
            return graph.result().get(0);
        }
        try (Backend.Reclaim scope = device.reclaim()) {
            Tensor sums = sequence();
            cpu.stop(1);
            return sums.get(0);
        }
    }
}
