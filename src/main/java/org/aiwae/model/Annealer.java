package org.aiwae.model;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.engine.math.Gaussian;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.kernels.DeviceBackend;
import org.aiwae.sampler.Ais;
import org.aiwae.sampler.Hmc;
import org.aiwae.sampler.LogDensity;
import org.aiwae.sampler.StepSizes;

/**
 * The paper's annealing for a latent-variable model: {@link Ais} from {@code q(z|x)} to {@code p(x, z)} for a model and a batch, wherever the batch
 * lives: K chains per data point, laid out {@code [K, B]} (chain n belongs to data point
 * {@code n mod B}). Both densities come from autodiff on the model's own ops (a diagonal Gaussian q in
 * closed form); where the model
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
    private boolean graphs;

    public Annealer(LatentVariableModel model, int leapfrog) {
        this.model = model;
        this.hmc = new Hmc(leapfrog);
    }

    /**
     * Whether a run on a device records one temperature and replays it for the others ({@link RecordedTemperatures}; the
     * same bits as running each directly); where it applies: chains drawing from one stream per data point
     * ({@link ChainNoise.PerGroup}) with one step-size slot that every temperature shares ({@link StepSizes#ais}), as an AIS
     * evaluation has. Off by default.
     */
    public Annealer graphs(boolean on) {
        this.graphs = on;
        return this;
    }

    /**
     * Runs AIS over {@code betas} for the {@code samples} chains per row of {@code x [B, D]} that start
     * at {@code z0 [K, B, Z]} (drawn from {@code q}, which must hold constants), all in x's memory;
     * adapts slot t-1 of {@code stepSizes} at temperature t. The chains move in {@code z0}'s memory: it holds the final
     * positions afterwards (the result's).
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
        Ais.Loop loop = graphs && Backends.of(x) instanceof DeviceBackend device && noise instanceof ChainNoise.PerGroup perImage
                && stepSizes.slots() == 1 ? new RecordedTemperatures(device, betas, perImage) : Ais.Loop.DIRECT;
        return ais.runInPlace(ais.init(z0.reshape(chains, latent)), betas, stepSizes, noise, progress, loop); // a fresh state: no copy
    }

    /**
     * The AIS kernel for {@code samples} chains per row of {@code x [B, D]}: base {@code log q(z|x)} (which
     * must hold constants), target {@code log p(x, z)}, HMC with this annealer's leapfrog steps. Valid
     * until the next call (the fused kernel it may use is this annealer's).
     */
    public Ais ais(Tensor x, Posterior q, int samples) {
        int batch = x.dim(0), latent = model.latentDim();
        LogDensity base = q instanceof DiagonalGaussian g ? gaussian(g, samples)
                : LogDensity.autodiff(z -> q.logProb(Ops.reshape(z, samples, batch, latent)));
        return new Ais(hmc, base, logJoint(x, samples, samples * batch));
    }

    /**
     * {@code log q(z|x)} of a diagonal Gaussian and its gradient in z for chains {@code [K*B, Z]}: the value
     * of {@link DiagonalGaussian#logProb} and the gradient autodiff gives (SamplerTest checks both on every
     * backend) in closed form, {@code u = (z - mu) / sigma}, {@code log q = -|u|^2 / 2 - sum log sigma - Z log(2 pi) / 2},
     * {@code d/dz = -u / sigma} ({@link Backend#diagonalGaussian}; the gradient alone {@link Backend#scaledDifference}):
     * one pass over the chains on a device instead of a graph, with what does not depend on z computed once.
     */
    private static LogDensity gaussian(DiagonalGaussian q, int samples) {
        Tensor mu = q.mu().value(), logSigma = q.logSigma().value();
        int batch = mu.dim(0), latent = mu.dim(1);
        Backend be = Backends.of("gaussian", mu, logSigma);
        // Z log(2 pi) / 2 rounded once from double, not Gaussian.logNormalizer's float product: the two differ by one ulp
        // at some Z (3, 6, 12, 13, ...), and this is the value every AIWAE run and AIS evaluation so far annealed with
        Backend.GaussianTerms terms = be.gaussianTerms(logSigma, (float) (latent * Gaussian.HALF_LOG_2PI));
        Tensor invSigma = terms.a(), negInvSigma = terms.s(), constant = terms.constant();
        return new LogDensity() {
            @Override
            public Value at(Tensor z) {
                Backend.Density v = be.diagonalGaussian(z.reshape(samples, batch, latent), mu, invSigma, negInvSigma, constant);
                return new Value(v.logDensity().reshape(samples * batch), v.gradient().reshape(samples * batch, latent));
            }

            @Override
            public Tensor gradient(Tensor z) {
                return be.scaledDifference(z.reshape(samples, batch, latent), mu, invSigma, negInvSigma).reshape(samples * batch, latent);
            }

            @Override
            public Backend.GaussianScore gaussianScore() {
                return new Backend.GaussianScore(mu, invSigma, negInvSigma);
            }
        };
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
        return new LogDensity() {
            @Override
            public Value at(Tensor z) {
                Tensor logp = z.placement().empty(chains), grad = z.placement().empty(chains, latent); // written in full
                kernel.logJoint(z, x, logp, grad);
                return new Value(logp, grad);
            }

            @Override
            public Tensor gradient(Tensor z) {
                Tensor grad = z.placement().empty(chains, latent);
                kernel.logJoint(z, x, null, grad);
                return grad;
            }
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
