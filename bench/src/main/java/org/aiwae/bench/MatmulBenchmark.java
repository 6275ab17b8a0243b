package org.aiwae.bench;

import java.util.concurrent.TimeUnit;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.random.RandomStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Purpose: the throughput of one matrix product at the shapes of the paper's model with
 * K * batch = 640 rows, forward ({@code x W^T}) and backward ({@code g W}, {@code g^T x}).
 * GFLOP/s = 2 m n k * (ops/s) / 1e9 (docs/performance.md lists them).
 *
 * <p>{@code shape} is {@code m x n x k : layout}: NT is a forward layer ({@code [m,k] x [n,k]^T}),
 * NN a backward product to the input ({@code [m,k] x [k,n]}), TN a weight gradient
 * ({@code [k,m]^T x [k,n]}).
 */
public class MatmulBenchmark extends OnBackend {

    @Param({"640x200x50:NT", "640x200x200:NT", "640x784x200:NT", "640x200x784:NN", "640x200x200:NN", "784x200x640:TN", "200x200x640:TN"})
    public String shape;

    private Tensor a;
    private Tensor b;
    private Tensor c;
    private boolean ta;
    private boolean tb;

    @Setup
    public void setup() {
        open();
        String[] parts = shape.split(":");
        String[] d = parts[0].split("x");
        int m = Integer.parseInt(d[0]), n = Integer.parseInt(d[1]), k = Integer.parseInt(d[2]);
        ta = parts[1].charAt(0) == 'T';
        tb = parts[1].charAt(1) == 'T';
        RandomStream rnd = new RandomStream(1);
        a = (ta ? rnd.normal(k, m) : rnd.normal(m, k)).to(be); // operands live on the backend: no copies per product
        b = (tb ? rnd.normal(n, k) : rnd.normal(k, n)).to(be);
        c = be.zeros(m, n);
    }


    /** Frees what the backend holds on a device (opencl, cuda). */
    @TearDown
    public void tearDown() {
        be.close();
    }


    @Benchmark
    public Tensor matmul() {
        be.matmul(a, ta, b, tb, c, false);
        if (!c.onHost()) {
            c.get(0, 0); // waits for the device (one float comes back)
        }
        return c;
    }
}
