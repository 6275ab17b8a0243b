package org.aiwae.objective;

import java.util.Map;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Autograd;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.Annealer;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.Posterior;
import org.aiwae.sampler.Ais;
import org.aiwae.sampler.Schedule;
import org.aiwae.sampler.StepSizes;

/**
 * The annealed importance weighted auto-encoder (Algorithm 1). The generative model follows
 * {@code sum_k w_k grad log p(x, z_k)}, where z_k and w_k come from AIS with K chains from
 * q(z|x) to p(x, z) over T inverse temperatures, each transition HMC with L leapfrog steps; the
 * inference model maximises the ELBO by reparameterisation, with the KL term in closed form or
 * sampled ({@link EncoderKl}). The chain runs without a graph, so
 * memory does not grow with T * L. Step sizes adapt per temperature across minibatches
 * ({@link StepSizes#aiwae}).
 */
public final class Aiwae implements Objective {
    private final int samples;
    private final int temperatures;
    private final int leapfrog;
    private final double[] betas;
    private final StepSizes stepSizes;
    private final Backend backend;
    private final EncoderKl encoderKl;
    private Annealer annealer;
    private LatentVariableModel annealed;

    /** AIWAE whose encoder ascends the Monte Carlo ELBO ({@link EncoderKl#SAMPLE}). */
    public Aiwae(int samples, int temperatures, int leapfrog, Schedule schedule, Backend backend) {
        this(samples, temperatures, leapfrog, schedule, backend, EncoderKl.SAMPLE);
    }

    /** AIWAE whose encoder ascends the ELBO estimated as {@code encoderKl} says. */
    public Aiwae(int samples, int temperatures, int leapfrog, Schedule schedule, Backend backend, EncoderKl encoderKl) {
        if (samples < 1 || temperatures < 2 || leapfrog < 1) {
            throw new IllegalArgumentException("AIWAE needs K >= 1, T >= 2 and L >= 1, got K=" + samples
                    + " T=" + temperatures + " L=" + leapfrog);
        }
        this.samples = samples;
        this.temperatures = temperatures;
        this.leapfrog = leapfrog;
        this.betas = schedule.betas(temperatures);
        this.stepSizes = StepSizes.aiwae(temperatures);
        stepSizes.moveTo(backend); // adapted where the chains run, outliving every step's temporaries
        this.backend = backend;
        this.encoderKl = java.util.Objects.requireNonNull(encoderKl, "encoderKl");
    }

    @Override
    public String name() {
        return "aiwae";
    }

    @Override
    public int samples() {
        return samples;
    }

    @Override
    public int temperatureSteps() {
        return temperatures - 1;
    }

    /** The adapted step size of each temperature step (checkpointed with the model as {@value #STEP_SIZES}). */
    @Override
    public float[] stepSizes() {
        return stepSizes.toArray();
    }

    /** Checkpoint name of the step sizes, one per temperature step. */
    static final String STEP_SIZES = "hmc.step_sizes";

    @Override
    public Map<String, Tensor> state() {
        float[] s = stepSizes();
        return Map.of(STEP_SIZES, Tensor.of(s, s.length));
    }

    @Override
    public void loadState(Map<String, Tensor> state) {
        Tensor s = state.get(STEP_SIZES);
        int n = temperatureSteps();
        if (s == null || s.size() != n) {
            throw new IllegalArgumentException(s == null ? "no tensor '" + STEP_SIZES + "'"
                    : STEP_SIZES + " holds " + s.size() + " step sizes for " + n + " temperature steps");
        }
        stepSizes.load(s.toArray());
    }

    @Override
    public StepResult step(LatentVariableModel model, Tensor x, RandomStream rng) {
        Backends.require("aiwae (built for " + backend.name() + ")", backend, x);
        int batch = x.dim(0), latent = model.latentDim();
        // 1. anneal K chains per data point from q(z|x) to p(x, z), with no graph
        Ais.Result ais;
        Tensor weights;
        try (NoGrad ignored = NoGrad.enter()) {
            Posterior q = model.posterior(Var.constant(x));
            Tensor z0 = q.sample(rng.normal(x.placement(), samples, batch, latent)).value();
            ais = annealer(model).run(x, q, z0, samples, betas, stepSizes, new ChainNoise.Shared(rng), null);
            weights = softmaxOverSamples(ais.state().logWeightTensor(), samples, batch);
        }
        // 2. decoder: ascend sum_k w_k log p(x, z_k) with normalised AIS weights
        Tensor z = ais.state().chains().position().reshape(samples, batch, latent);
        Var xv = Var.constant(x);
        Var decoderLoss = Autograd.backward(model.generativeParameters(),
                () -> Ops.scaledSum(model.logJoint(xv, Var.constant(z)), weights, -1f / batch)); // -sum w log p / B
        // 3. encoder: ascend the ELBO with one reparameterised sample
        Tensor noise = rng.normal(x.placement(), 1, batch, latent);
        Var encoderLoss = Autograd.backward(model.inferenceParameters(), () -> {
            Posterior q = model.posterior(xv);
            Var elbo = encoderKl.elbo(model, xv, q, q.sample(noise));
            return Ops.scaledSum(elbo, null, -(1f / elbo.value().size())); // -mean, the same bits
        });
        return new StepResult(decoderLoss.value(), encoderLoss.value(), ais.acceptedCounts(), samples * batch);
    }

    private Annealer annealer(LatentVariableModel model) {
        if (annealer == null || annealed != model) {
            if (annealer != null) {
                annealer.close(); // its kernel belongs to the previous model
            }
            annealer = new Annealer(model, leapfrog);
            annealed = model;
        }
        return annealer;
    }

    /** Closes the cached annealer and its device buffers. */
    @Override
    public void close() {
        if (annealer != null) {
            annealer.close();
            annealer = null;
            annealed = null;
        }
    }

    /** {@code w[k, b] = exp(logw[k, b]) / sum_k exp(logw[k, b])} for log weights {@code [K*B]}, where they live. */
    static Tensor softmaxOverSamples(Tensor logw, int k, int batch) {
        Var lw = Var.constant(logw.reshape(k, batch));
        return Ops.exp(Ops.sub(lw, Ops.reshape(Ops.logsumexp(lw, 0), 1, batch))).value();
    }
}
