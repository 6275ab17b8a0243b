package org.aiwae.sampler;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.Posterior;

/**
 * {@link Ais} from {@code q(z|x)} to {@code p(x, z)} for a model and a batch, wherever the batch
 * lives: K chains per data point, laid out {@code [K, B]} (chain n belongs to data point
 * {@code n mod B}). Both densities come from autodiff on the model's own ops; where the model
 * describes its decoder as a {@link TanhMlpDecoder}, {@code log p(x, z)} and its gradient come
 * from the backend's fused decoder kernel instead (the same maths in one pass, tested equal). The
 * kernel is kept between runs (grown for a larger batch) and re-reads the weights at each run, so
 * an annealer serves a training loop as well as an evaluation.
 */
public final class Annealer implements AutoCloseable {
    private final LatentVariableModel model;
    private final Hmc hmc;
    private DecoderKernel decoder;
    private Backend decoderBackend;

    public Annealer(LatentVariableModel model, int leapfrog) {
        this.model = model;
        this.hmc = new Hmc(leapfrog);
    }

    /**
     * Runs AIS over {@code betas} for the {@code samples} chains per row of {@code x [B, D]} that start
     * at {@code z0 [K, B, Z]} (drawn from {@code q}, which must hold constants), all in x's memory;
     * adapts slot t-1 of {@code stepSizes} at temperature t.
     */
    public Ais.Result run(Tensor x, Posterior q, Tensor z0, int samples, double[] betas, StepSizes stepSizes, ChainNoise noise,
                          Ais.Progress progress) {
        int batch = x.dim(0), latent = model.latentDim(), chains = samples * batch;
        if (z0.size() != chains * latent) {
            throw new IllegalArgumentException("annealing: " + z0.size() + " start values for " + samples + " x " + batch
                    + " chains of dimension " + latent);
        }
        Backends.of("annealing", x, z0);
        Ais ais = ais(x, q, samples);
        return ais.run(ais.init(z0.reshape(chains, latent)), betas, stepSizes, noise, progress);
    }

    /**
     * The AIS kernel for {@code samples} chains per row of {@code x [B, D]}: base {@code log q(z|x)} (which
     * must hold constants), target {@code log p(x, z)}, HMC with this annealer's leapfrog steps. Valid
     * until the next call (the fused kernel it may use is this annealer's).
     */
    public Ais ais(Tensor x, Posterior q, int samples) {
        int batch = x.dim(0), latent = model.latentDim();
        LogDensity base = LogDensity.autodiff(z -> q.logProb(Ops.reshape(z, samples, batch, latent)));
        return new Ais(hmc, base, logJoint(x, samples, samples * batch));
    }

    /** {@code log p(x, z)} of chains {@code [K*B, Z]}: the fused kernel where there is one, else autodiff. */
    private LogDensity logJoint(Tensor x, int samples, int chains) {
        int batch = x.dim(0), latent = model.latentDim();
        if (model.fusedDecoder().isEmpty()) {
            Var xv = Var.constant(x);
            return LogDensity.autodiff(z -> model.logJoint(xv, Ops.reshape(z, samples, batch, latent)));
        }
        Backend be = Backends.of(x);
        if (decoder == null || decoder.maxRows() < chains || decoderBackend != be) {
            if (decoder != null) {
                decoder.close();
            }
            decoder = be.decoder(model.fusedDecoder().get(), chains);
            decoderBackend = be;
        } else {
            decoder.refresh();
        }
        DecoderKernel kernel = decoder;
        return z -> {
            Tensor logp = z.placement().zeros(chains), grad = z.placement().zeros(chains, latent);
            kernel.logJoint(z, x, logp, grad);
            return new LogDensity.Value(logp, grad);
        };
    }

    @Override
    public void close() {
        if (decoder != null) {
            decoder.close();
            decoder = null;
        }
    }
}
