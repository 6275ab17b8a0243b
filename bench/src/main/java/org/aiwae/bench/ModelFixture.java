package org.aiwae.bench;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.DiagonalGaussian;
import org.aiwae.model.MlpVae;
import org.aiwae.sampler.AnnealingPaths;
import org.aiwae.sampler.FusedMlpPath;
import org.aiwae.sampler.PathState;

/** The paper's model (784-200-200-50 and back) with binary data and chains from q(z|x), shared by the benchmarks. */
final class ModelFixture implements AutoCloseable {
    final MlpVae model;
    final Tensor x;
    final DecoderKernel kernel;
    final FusedMlpPath path;
    final PathState state;

    /** {@code chains} chains for each of {@code batch} random binary images. */
    ModelFixture(Backend backend, int batch, int chains) {
        RandomStream rng = new RandomStream(7);
        model = MlpVae.create(784, 200, 50, rng);
        x = binary(rng, batch);
        kernel = AnnealingPaths.kernelFor(model, backend, batch * chains);
        try (NoGrad ignored = NoGrad.enter()) {
            DiagonalGaussian q = model.posterior(Var.constant(x));
            path = new FusedMlpPath(kernel, x, q.mu().value(), q.logSigma().value(), chains);
            state = PathState.at(path, q.sample(rng.normal(chains, batch, 50)).value());
        }
    }

    @Override
    public void close() {
        if (kernel != null) {
            kernel.close();
        }
    }

    /** Binary images with about 13% ones, MNIST's mean intensity. */
    static Tensor binary(RandomStream rng, int batch) {
        Tensor x = rng.uniform(batch, 784);
        float[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = d[i] < 0.13f ? 1 : 0;
        }
        return x;
    }
}
