package org.aiwae.train;

import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.optim.Adam;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.kernels.DeviceBackend;
import org.aiwae.kernels.DeviceGraph;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.objective.Aiwae;
import org.aiwae.objective.Iwae;
import org.aiwae.objective.Objective;
import org.aiwae.objective.Vae;
import org.aiwae.sampler.Schedule;

/**
 * One optimisation step of any model under any objective, as the paper trains: the objective
 * fills the gradients, then separate Adam optimisers (beta 0.9 / 0.999, eps 1e-4) update the
 * generative and the inference parameters.
 *
 * <pre>{@code
 * TrainingStep step = new TrainingStep(model, new Aiwae(5, 5, 5, Schedule.linear(), Backends.cpu()));
 * for (Tensor x : minibatches) step.run(x, rng, 1e-3);
 * }</pre>
 */
public final class TrainingStep implements AutoCloseable {
    private final LatentVariableModel model;
    private final Objective objective;
    private final Adam generative;
    private final Adam inference;
    /** On a device: the last step's losses and acceptance counts, outliving its reclaim scope. */
    private Tensor[] kept;
    /** On a device: the minibatch then the step's random stream key (four words), written in one host write. */
    private Tensor input;
    private int[] inputShape;
    private boolean graphs = true;
    private boolean warm;
    private DeviceGraph<Objective.StepResult> graph;

    public TrainingStep(LatentVariableModel model, Objective objective) {
        this(model, objective, Adam.paper(model.generativeParameters()), Adam.paper(model.inferenceParameters()));
    }

    public TrainingStep(LatentVariableModel model, Objective objective, Adam generative, Adam inference) {
        this.model = model;
        this.objective = objective;
        this.generative = generative;
        this.inference = inference;
    }

    /** The objective a configuration names. */
    public static Objective objective(TrainConfig config, Backend backend) {
        return switch (config.method()) {
            case VAE -> new Vae(config.samples());
            case IWAE -> new Iwae(config.samples());
            case AIWAE -> new Aiwae(config.samples(), config.temperatures(), config.leapfrog(), Schedule.linear(), backend,
                    config.encoderKl());
        };
    }

    /**
     * Zeroes the gradients, computes them on the minibatch {@code x [B, D]}, and updates both parameter
     * sets unless a loss is not finite (a step that diverged changes nothing). {@code x} may be in host memory
     * or already where the model is.
     *
     * <p>On a device nothing is read back: the finite test runs there, and the result holds copies of the losses
     * (and acceptance counts) in device memory, valid until the next step. The minibatch and the step's random
     * stream key go up in one host write. After one step of a shape, the step is recorded
     * ({@link DeviceBackend#record}) and later steps of that shape replay it: one graph launch on CUDA, the
     * recorded command list on OpenCL, with no autodiff graph built and the same bits as running it
     * ({@link #graphs(boolean) graphs(false)} always runs it). A step of another shape (an epoch's short last
     * minibatch) runs directly and drops the recording.
     */
    public Objective.StepResult run(Tensor x, RandomStream rng, double learningRate) {
        Placement where = generative.params().get(0).value().placement();
        if (where.isHost()) {
            try (Backend.Reclaim ignored = Backends.of(x).reclaim()) {
                return body(x, rng, learningRate);
            }
        }
        DeviceBackend be = (DeviceBackend) where;
        if (input == null || !java.util.Arrays.equals(inputShape, x.shape())) {
            dropGraph();
            warm = false; // a new shape runs directly once before it is recorded (its buffers come from the pool then)
            int n = x.size();
            input = be.zeros(n + 4);
            inputShape = x.shape();
            kept = new Tensor[] {be.zeros(1), be.zeros(1), objective.temperatureSteps() > 0 ? be.zeros(objective.temperatureSteps()) : null};
        }
        int n = x.size();
        Tensor xs = input.rows(0, n).reshape(inputShape), key = input.rows(n, n + 4);
        if (x.onHost()) { // the minibatch and the stream's key in one write
            float[] in = new float[n + 4];
            System.arraycopy(x.toArray(), 0, in, 0, n);
            System.arraycopy(rng.keyWords(), 0, in, n, 4);
            input.copyFrom(in);
        } else {
            xs.copyFrom(x);
            key.copyFrom(rng.keyWords());
        }
        generative.learningRate((float) learningRate);
        inference.learningRate((float) learningRate);
        RandomStream keyed = rng.keyedBy(key);
        if (!graphs || !warm) {
            warm = true;
            try (Backend.Reclaim ignored = be.reclaim()) {
                return body(xs, keyed, learningRate);
            }
        }
        if (graph == null) {
            graph = be.record(() -> {
                try (Backend.Reclaim ignored = be.reclaim()) {
                    return body(xs, keyed, learningRate);
                }
            });
        }
        graph.replay();
        return graph.result();
    }

    /** One step on {@code x}, in a reclaim scope the caller opened; on a device its results are copied to {@link #kept}. */
    private Objective.StepResult body(Tensor x, RandomStream rng, double learningRate) {
        generative.zeroGrad();
        inference.zeroGrad();
        Objective.StepResult r = objective.step(model, x, rng);
        generative.step((float) learningRate, r.decoderLoss(), r.encoderLossValue());
        inference.step((float) learningRate, r.decoderLoss(), r.encoderLossValue());
        if (x.onHost()) {
            return r;
        }
        generative.zeroGrad();
        inference.zeroGrad();
        kept[0].copyFrom(r.decoderLoss().reshape(1));
        kept[1].copyFrom(r.encoderLossValue().reshape(1));
        if (kept[2] != null) {
            kept[2].copyFrom(r.acceptedCounts());
        }
        return new Objective.StepResult(kept[0], kept[1], kept[2], r.chains());
    }

    /**
     * Whether device steps are recorded and replayed (the default) or always run directly: the same bits either way,
     * replay issuing one graph launch per step instead of hundreds of launches with the Java work around each.
     */
    public TrainingStep graphs(boolean on) {
        graphs = on;
        if (!on) {
            dropGraph();
        }
        return this;
    }

    private void dropGraph() {
        if (graph != null) {
            graph.close();
            graph = null;
        }
    }

    /** Closes the objective (what it holds on a device). */
    @Override
    public void close() {
        dropGraph();
        objective.close();
    }

    public LatentVariableModel model() {
        return model;
    }

    public Objective objective() {
        return objective;
    }

    public Adam generative() {
        return generative;
    }

    public Adam inference() {
        return inference;
    }
}
