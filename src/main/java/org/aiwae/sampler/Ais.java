package org.aiwae.sampler;

import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;

/**
 * Annealed importance sampling (Neal 2001) on an {@link AnnealingPath}: starting from samples of
 * f0, for t = 1..T-1 add {@code (beta_t - beta_{t-1}) (log f1 - log f0)} at the current position
 * to each chain's log weight, then move the chain with an HMC transition that leaves
 * {@code f_{beta_t}} invariant. The log weights are accumulated in double precision; with one
 * temperature step (T = 2) and no moves they are the plain importance weights {@code log f1 - log f0}.
 */
public final class Ais {
    private Ais() {}

    /** The outcome of a run. */
    public record Result(double[] logWeights, PathState state, double[] acceptance, int divergences) {}

    /** Called after each temperature with the temperature index and the transition's info. */
    @FunctionalInterface
    public interface Progress {
        void temperatureDone(int t, HmcInfo info);
    }

    /**
     * Runs AIS from {@code state} (positions drawn from f0, already evaluated); updates the state
     * in place and adapts {@code stepSizes} (slot {@code t - 1} for temperature t).
     */
    public static Result run(AnnealingPath path, PathState state, double[] betas, Hmc hmc, StepSizes stepSizes,
                             RandomStream rng, Progress progress) {
        return run(path, state, betas, hmc, stepSizes, new ChainNoise.Shared(rng), progress);
    }

    /** As above, the chains drawing their random numbers from {@code noise}. */
    public static Result run(AnnealingPath path, PathState state, double[] betas, Hmc hmc, StepSizes stepSizes,
                             ChainNoise noise, Progress progress) {
        int n = state.chains();
        double[] logw = new double[n];
        double[] acceptance = new double[betas.length - 1];
        float[] eps = new float[n];
        int divergences = 0;
        for (int t = 1; t < betas.length; t++) {
            double db = betas[t] - betas[t - 1];
            float[] l0 = state.log0().data(), l1 = state.log1().data();
            int o0 = state.log0().offset(), o1 = state.log1().offset();
            for (int i = 0; i < n; i++) {
                logw[i] += db * ((double) l1[o1 + i] - l0[o0 + i]);
            }
            HmcInfo info = hmc.step(path, state, betas[t], stepSizes.forChains(t - 1, n, eps), noise);
            acceptance[t - 1] = stepSizes.observe(t - 1, info.accepted());
            divergences += info.divergences();
            if (progress != null) {
                progress.temperatureDone(t, info);
            }
        }
        return new Result(logw, state, acceptance, divergences);
    }
}
