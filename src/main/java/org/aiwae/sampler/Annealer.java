package org.aiwae.sampler;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.fused.AnnealingKernel;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.DiagonalGaussian;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.Posterior;

/**
 * AIS from q(z|x) to p(x, z) for a batch, wherever it runs fastest: entirely on the device when the
 * backend offers an {@link AnnealingKernel} for the model's fused decoder, else {@link Ais} on the
 * host around the fused decoder kernel, else on autodiff ({@link ModelPath}). Kernels and buffers
 * are kept between calls and grown when a larger batch comes; the model's weights are re-read at
 * every run, so it serves a training loop as well as an evaluation.
 */
public final class Annealer implements AutoCloseable {
    private final LatentVariableModel model;
    private final Backend backend;
    private final int leapfrog;
    private final Map<Integer, Hmc> hmcs = new HashMap<>();
    private DecoderKernel decoder;
    private AnnealingKernel device;
    private int capacity;

    /** The outcome: log weights per chain (double), final positions {@code [N, Z]}, acceptance per temperature step. */
    public record Result(double[] logWeights, Tensor positions, double[] acceptance, int divergences) {}

    public Annealer(LatentVariableModel model, Backend backend, int leapfrog) {
        if (leapfrog < 1) {
            throw new IllegalArgumentException("annealing needs at least one leapfrog step, got " + leapfrog);
        }
        this.model = model;
        this.backend = backend;
        this.leapfrog = leapfrog;
    }

    /**
     * Runs AIS over {@code betas} for the {@code samples} chains per row of {@code x [B, D]} that start
     * at {@code z0 [K, B, Z]} (drawn from {@code q}, which must hold constants); adapts slot t-1 of
     * {@code stepSizes} at temperature t.
     */
    public Result run(Tensor x, Posterior q, Tensor z0, int samples, double[] betas, StepSizes stepSizes, RandomStream rng,
                      Ais.Progress progress) {
        return run(x, q, z0, samples, betas, stepSizes, new ChainNoise.Shared(rng), progress);
    }

    /**
     * As above, the chains drawing their momenta and uniforms from {@code noise}: with
     * {@link ChainNoise.PerGroup} (one stream per row of x) each row's outcome is independent of
     * the batch it was run in.
     */
    public Result run(Tensor x, Posterior q, Tensor z0, int samples, double[] betas, StepSizes stepSizes, ChainNoise noise,
                      Ais.Progress progress) {
        int chains = samples * x.dim(0), latent = model.latentDim();
        Optional<AnnealingKernel> dev = q instanceof DiagonalGaussian ? deviceKernel(chains) : Optional.empty();
        if (dev.isPresent()) {
            DiagonalGaussian g = (DiagonalGaussian) q;
            AnnealingKernel k = dev.get();
            k.start(x, g.mu().value(), g.logSigma().value(), z0.reshape(chains, latent));
            double[] acceptance = new double[betas.length - 1];
            float[] eps = new float[chains];
            boolean[] accepted = new boolean[chains];
            int divergences = 0;
            for (int t = 1; t < betas.length; t++) {
                int div = k.step(betas[t - 1], betas[t], stepSizes.forChains(t - 1, chains, eps), leapfrog, noise, accepted);
                acceptance[t - 1] = stepSizes.observe(t - 1, accepted);
                divergences += div;
                if (progress != null) {
                    progress.temperatureDone(t, new HmcInfo(accepted, acceptance[t - 1], div));
                }
            }
            Tensor positions = x.placement().zeros(chains, latent); // a device copy where x lives on the device
            double[] logw = new double[chains];
            k.read(positions, logw);
            return new Result(logw, positions, acceptance, divergences);
        }
        AnnealingPath path = AnnealingPaths.of(model, x, q, samples, hostDecoder(chains));
        PathState state = PathState.at(path, z0.reshape(chains, latent).copy());
        Hmc hmc = hmcs.computeIfAbsent(chains, n -> new Hmc(n, latent, leapfrog));
        Ais.Result r = Ais.run(path, state, betas, hmc, stepSizes, noise, progress);
        return new Result(r.logWeights(), r.state().position(), r.acceptance(), r.divergences());
    }

    private Optional<AnnealingKernel> deviceKernel(int chains) {
        if (model.fusedDecoder().isEmpty()) {
            return Optional.empty();
        }
        if (device == null || capacity < chains) {
            Optional<AnnealingKernel> k = backend.annealing(model.fusedDecoder().get(), chains);
            if (k.isEmpty()) {
                return k;
            }
            if (device != null) {
                device.close();
            }
            device = k.get();
            capacity = chains;
        } else {
            device.refresh();
        }
        return Optional.of(device);
    }

    private DecoderKernel hostDecoder(int rows) {
        if (model.fusedDecoder().isEmpty()) {
            return null;
        }
        if (decoder == null || decoder.maxRows() < rows) {
            if (decoder != null) {
                decoder.close();
            }
            decoder = AnnealingPaths.kernelFor(model, backend, rows);
        } else {
            decoder.refresh();
        }
        return decoder;
    }

    @Override
    public void close() {
        if (device != null) {
            device.close();
        }
        if (decoder != null) {
            decoder.close();
        }
    }
}
