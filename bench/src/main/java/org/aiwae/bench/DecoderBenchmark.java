package org.aiwae.bench;

import org.aiwae.engine.backend.Backend;
import org.aiwae.sampler.LogDensity;
import org.openjdk.jmh.annotations.*;

/**
 * Purpose: the fused hot operation of HMC, log p(x, z) and its gradient in z through the
 * decoder 50-200-200-784 (tanh, Bernoulli logits, standard normal prior) for 640 (x, z) pairs:
 * K=5 samples of a 128-image AIWAE minibatch ({@code batch}). One op = 640 (5 x batch) evaluations with gradients; a
 * leapfrog step costs exactly one.
 */
public class DecoderBenchmark extends OnBackend {

    /** Images, 5 chains each (an AIWAE minibatch of 128; fewer for a quick run). */
    @Param({"128"})
    public int batch;

    private ModelFixture f;

    @Setup
    public void setup() {
        open();
        f = new ModelFixture(be, batch, 5);
    }


    /** Frees what the backend holds on a device (opencl, cuda). */
    @TearDown
    public void tearDown() {
        f.close();
        be.close();
    }


    @Benchmark
    public float logJointAndGradient() {
        try (Backend.Reclaim temporaries = be.reclaim()) {
            LogDensity.Value v = f.ais.target().at(f.state.chains().position());
            return v.gradient().rows(0, 1).toArray()[0]; // a device's results are ready when one float has come back
        }
    }
}
