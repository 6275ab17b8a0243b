package org.aiwae.bench;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.sampler.Hmc;
import org.aiwae.sampler.Tempered;
import org.openjdk.jmh.annotations.*;

/**
 * Purpose: one HMC transition with L=5 leapfrog steps for 640 chains (K=5 x 128 images) on the
 * path from q(z|x) to p(x, z) at beta = 0.5, as inside an AIWAE step: momenta, 5 fused
 * decoder evaluations with gradients and log q by autodiff, the Metropolis test, on any backend. One op = 640
 * chain transitions (5 x {@code batch}).
 */
public class HmcBenchmark extends OnBackend {

    /** Images, 5 chains each (an AIWAE minibatch of 128; fewer for a quick run). */
    @Param({"128"})
    public int batch;

    private ModelFixture f;
    private Hmc hmc;
    private Tempered target;
    private Tensor eps;
    private ChainNoise noise;

    @Setup
    public void setup() {
        open();
        f = new ModelFixture(be, batch, 5);
        hmc = new Hmc(5);
        target = new Tempered(f.ais.base(), f.ais.target(), 0.5);
        eps = be.full(0.05f, 1, 1);
        noise = new ChainNoise.Shared(new RandomStream(3));
    }


    /** Frees what the backend holds on a device (opencl, cuda). */
    @TearDown
    public void tearDown() {
        f.close();
        be.close();
    }


    @Benchmark
    public double transition() {
        try (Backend.Reclaim temporaries = be.reclaim()) {
            // reading the acceptance waits for a device, as a sampler adapting its step size does
            return hmc.step(noise, target, f.state.chains(), eps).info().acceptance();
        }
    }
}
