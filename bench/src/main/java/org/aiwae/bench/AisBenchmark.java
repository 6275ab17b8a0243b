package org.aiwae.bench;

import java.util.concurrent.TimeUnit;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.sampler.Ais;
import org.aiwae.sampler.Hmc;
import org.aiwae.sampler.StepSizes;
import org.openjdk.jmh.annotations.*;

/**
 * Purpose: one temperature of the NLL protocol's AIS, 16 chains for each of 100 images with HMC
 * of L=10 leapfrog steps: the log-weight update in double, one transition, the per-image step-size
 * adaptation. One op = 1,600 chain-temperature steps (PyTorch's anchor reports that unit).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AisBenchmark {

    @Param({"cpu"})
    public String backend;

    private ModelFixture f;
    private Hmc hmc;
    private StepSizes sizes;
    private RandomStream rng;
    private final double[] betas = {0.4, 0.4001};

    @Setup
    public void setup() {
        Backends.use(BenchBackends.byName(backend));
        f = new ModelFixture(Backends.current(), 100, 16);
        hmc = new Hmc(1600, 50, 10);
        sizes = StepSizes.ais(100, 0.05f);
        rng = new RandomStream(5);
    }

    @Benchmark
    public Ais.Result temperatureStep() {
        return Ais.run(f.path, f.state, betas, hmc, sizes, rng, null);
    }
}
