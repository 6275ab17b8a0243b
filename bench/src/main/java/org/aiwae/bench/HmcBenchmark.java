package org.aiwae.bench;

import java.util.concurrent.TimeUnit;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.sampler.Hmc;
import org.aiwae.sampler.HmcInfo;
import org.openjdk.jmh.annotations.*;

/**
 * Purpose: one HMC transition with L=5 leapfrog steps for 640 chains (K=5 x 128 images) on the
 * path from q(z|x) to p(x, z) at beta = 0.5, as inside an AIWAE step: momenta, 5 fused
 * decoder evaluations with gradients, the Metropolis test. One op = 640 chain transitions.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class HmcBenchmark {

    @Param({"cpu"})
    public String backend;

    private Backend be;
    private ModelFixture f;
    private Hmc hmc;
    private float[] eps;
    private RandomStream rng;

    @Setup
    public void setup() {
        be = BenchBackends.byName(backend);
        f = new ModelFixture(be, 128, 5);
        hmc = new Hmc(640, 50, 5);
        eps = new float[640];
        java.util.Arrays.fill(eps, 0.05f);
        rng = new RandomStream(3);
    }


    /** Frees what the backend holds on a device (opencl, cuda). */
    @TearDown
    public void tearDown() {
        f.close();
        be.close();
    }


    @Benchmark
    public HmcInfo transition() {
        return hmc.step(f.path, f.state, 0.5, eps, rng);
    }
}
