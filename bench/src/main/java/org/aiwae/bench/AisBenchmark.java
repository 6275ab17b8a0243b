package org.aiwae.bench;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.Annealer;
import org.aiwae.sampler.StepSizes;
import org.openjdk.jmh.annotations.*;

/**
 * Purpose: the NLL protocol's AIS, 16 chains for each of 100 images ({@code images}) with HMC of L=10 leapfrog
 * steps, through {@link Annealer} as {@code aiwae eval} runs it (HMC and AIS composed from the
 * backend's primitives around its fused decoder, wherever the backend keeps its tensors). One op = 10 temperature steps
 * (inverse temperatures 0.40 .. 0.41) from fresh q(z|x) samples = 16,000 chain-temperature steps
 * ({@code images} x 160), the unit of PyTorch's anchor; the start (one evaluation in 101) is included.
 */
public class AisBenchmark extends OnBackend {

    /** Test images, 16 chains each (the protocol's 100; fewer for a quick run). */
    @Param({"100"})
    public int images;

    private ModelFixture f;
    private Tensor z0;
    private StepSizes sizes;
    private RandomStream rng;
    private final double[] betas = new double[11];

    @Setup
    public void setup() {
        open();
        f = new ModelFixture(be, images, 16);
        z0 = f.state.chains().position().copy();
        sizes = StepSizes.ais(images, 0.05f);
        sizes.moveTo(be); // the sizes outlive each invocation's reclaim scope
        rng = new RandomStream(5);
        for (int t = 0; t < betas.length; t++) {
            betas[t] = 0.4 + 0.001 * t;
        }
    }


    /** Frees what the backend holds on a device (opencl, cuda). */
    @TearDown
    public void tearDown() {
        f.close();
        be.close();
    }


    @Benchmark
    public double[] tenTemperatureSteps() {
        try (Backend.Reclaim temporaries = be.reclaim(); NoGrad ignored = NoGrad.enter()) {
            return f.annealer.run(f.x, f.q, z0, 16, betas, sizes, new ChainNoise.Shared(rng), null).state().logWeights();
        }
    }
}
