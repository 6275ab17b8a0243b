package org.aiwae.bench;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.Annealer;
import org.aiwae.model.DiagonalGaussian;
import org.aiwae.model.MlpVae;
import org.aiwae.sampler.Ais;

/**
 * The paper's model (784-200-200-50 and back) with binary data on a backend, and chains from q(z|x)
 * on the AIS path to p(x, z) as the annealer builds it (the fused decoder), shared by the benchmarks.
 */
final class ModelFixture implements AutoCloseable {
    final MlpVae model;
    final Tensor x;
    final DiagonalGaussian q;
    final Annealer annealer;
    final Ais ais;
    final Ais.State state;

    /** {@code chains} chains for each of {@code batch} random binary images. */
    ModelFixture(Backend backend, int batch, int chains) {
        RandomStream rng = new RandomStream(7);
        model = MlpVae.create(784, 200, 50, rng).to(backend);
        x = binary(rng, batch).to(backend);
        annealer = new Annealer(model, 10);
        try (NoGrad ignored = NoGrad.enter()) {
            q = model.posterior(Var.constant(x));
            ais = annealer.ais(x, q, chains);
            state = ais.init(q.sample(rng.normal(backend, chains, batch, 50)).value().reshape(chains * batch, 50));
        }
    }

    @Override
    public void close() {
        annealer.close();
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
