package org.aiwae.train;

import org.aiwae.engine.Shapes;
import org.aiwae.objective.EncoderKl;

/**
 * Everything that defines a training run. {@code epochs} is the run's length; with
 * {@code schedule = PAPER} it is 3,280 and the learning rates follow Appendix A exactly, or, at a
 * {@code budget} below 1, each of Appendix A's stages is shortened to that fraction (rounded up).
 * Written to and read from {@code config.json} by Jackson (snake_case keys in this order).
 * Invalid values throw IllegalArgumentException whose message starts with the field's name as
 * written in {@code config.json} (e.g. {@code batch_size}), so a caller can name its flag or file.
 */
public record TrainConfig(String dataset, Method method, int samples, int temperatures, int leapfrog,
                          int latent, int hidden, int batchSize, int epochs, TrainSchedule schedule, int trainLimit,
                          long seed, String backend, int evalSamples, int evalImages, EncoderKl encoderKl,
                          Double learningRate, Double budget) {

    public static final int PAPER_EPOCHS = TrainSchedule.PAPER_EPOCHS;
    /** The most inverse temperatures of AIWAE's training (the paper uses up to 11; each step runs T - 1 HMC transitions). */
    public static final int MAX_TEMPERATURES = 10_000;
    /** Appendix A's first learning rate; {@code learningRate} scales the whole schedule against it. */
    public static final double PAPER_LEARNING_RATE = 1e-3;

    /** A configuration with the whole paper schedule's length when its schedule is the paper's. */
    public TrainConfig(String dataset, Method method, int samples, int temperatures, int leapfrog, int latent, int hidden,
                       int batchSize, int epochs, TrainSchedule schedule, int trainLimit, long seed, String backend,
                       int evalSamples, int evalImages, EncoderKl encoderKl, Double learningRate) {
        this(dataset, method, samples, temperatures, leapfrog, latent, hidden, batchSize, epochs, schedule, trainLimit, seed,
                backend, evalSamples, evalImages, encoderKl, learningRate, null);
    }

    /** A configuration with the paper's learning rates and, for AIWAE's encoder, the sampled KL. */
    public TrainConfig(String dataset, Method method, int samples, int temperatures, int leapfrog, int latent, int hidden,
                       int batchSize, int epochs, TrainSchedule schedule, int trainLimit, long seed, String backend,
                       int evalSamples, int evalImages) {
        this(dataset, method, samples, temperatures, leapfrog, latent, hidden, batchSize, epochs, schedule, trainLimit, seed,
                backend, evalSamples, evalImages, null, null);
    }

    /**
     * Fails on impossible settings with a message that starts with the field's name. An absent
     * {@code encoderKl}, {@code learningRate} or {@code budget} (a config.json from before these options)
     * means what such runs trained with: the sampled KL, the paper's rates and its whole schedule, so
     * they resume bit for bit.
     */
    public TrainConfig {
        encoderKl = encoderKl == null ? EncoderKl.SAMPLE : encoderKl;
        learningRate = learningRate == null ? PAPER_LEARNING_RATE : learningRate;
        budget = budget == null ? 1.0 : budget;
        check(dataset != null && org.aiwae.data.Datasets.NAMES.contains(dataset),
                "dataset '" + dataset + "' is unknown; choose one of " + String.join(", ", org.aiwae.data.Datasets.NAMES));
        check(method != null, "method is missing; choose vae, iwae or aiwae");
        check(samples >= 1, "samples (K) must be at least 1, got " + samples);
        check(method != Method.AIWAE || temperatures >= 2, "temperatures (T) must be at least 2, got " + temperatures);
        check(method != Method.AIWAE || leapfrog >= 1, "leapfrog (L) must be at least 1, got " + leapfrog);
        check(latent >= 1, "latent must be at least 1, got " + latent);
        check(hidden >= 1, "hidden must be at least 1, got " + hidden);
        check(batchSize >= 1, "batch_size must be at least 1, got " + batchSize);
        check(budget > 0 && budget <= 1, "budget must be in (0, 1], a fraction of the paper's schedule, got " + budget);
        check(epochs >= 1, "epochs must be at least 1, got " + epochs);
        check(schedule != null, "schedule is missing; choose paper or short");
        check(budget == 1 || schedule != TrainSchedule.SHORT, "budget applies to schedule paper; schedule short runs its epochs");
        int paperEpochs = LearningRates.paperEpochs(budget);
        check(schedule != TrainSchedule.PAPER || epochs == paperEpochs, "schedule paper" + (budget == 1 ? "" : " at budget " + budget)
                + " runs " + paperEpochs + " epochs, not " + epochs + " (give only one of epochs and schedule)");
        check(method != Method.AIWAE || temperatures <= MAX_TEMPERATURES, "temperatures (T) must be at most " + MAX_TEMPERATURES
                + ", got " + temperatures);
        checkSizes(samples, batchSize, latent, hidden, org.aiwae.data.Datasets.pixels(dataset));
        check(trainLimit >= 0, "train_limit must be at least 1, or 0 for all images, got " + trainLimit);
        check(backend != null && !backend.isBlank(), "backend is missing");
        check(evalSamples >= 1, "eval_samples must be at least 1, got " + evalSamples);
        check(evalImages >= 1, "eval_images must be at least 1, got " + evalImages);
        check(method == null || method == Method.AIWAE || encoderKl == EncoderKl.SAMPLE, "encoder_kl analytic applies to aiwae "
                + "only; " + method + " estimates its bound by sampling");
        check(learningRate > 0 && learningRate < 1, "learning_rate must be in (0, 1), got " + learningRate);
    }

    /**
     * Every tensor of a training step must fit in one array ({@link Shapes#MAX_ELEMENTS} values): the
     * weight matrices and the K x B rows of each layer. Checked before anything is created; the message
     * starts with the field that is furthest out of range.
     */
    private static void checkSizes(int samples, int batchSize, int latent, int hidden, int pixels) {
        if (samples < 1 || batchSize < 1 || latent < 1 || hidden < 1) {
            return; // refused above with its own message
        }
        long widest = Math.max(pixels, Math.max(hidden, latent));
        long weights = Math.max(Shapes.elements(hidden, Math.max(pixels, hidden)), Shapes.elements(hidden, latent));
        check(weights <= Shapes.MAX_ELEMENTS, (hidden >= latent ? "hidden " + hidden : "latent " + latent)
                + " gives a weight matrix of " + weights + " values; one tensor holds at most " + Shapes.MAX_ELEMENTS);
        long rows = Shapes.elements(samples, batchSize, widest);
        check(rows <= Shapes.MAX_ELEMENTS, (samples >= batchSize ? "samples (K) " + samples + " x batch_size " + batchSize
                : "batch_size " + batchSize + " x samples (K) " + samples) + " x " + widest + " units = " + rows
                + " values in one tensor of a training step; one tensor holds at most " + Shapes.MAX_ELEMENTS);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * Learning rate for 0-based epoch {@code e}: the schedule's (see {@link LearningRates}), whose
     * first rate is the paper's 1e-3, scaled so that it starts at {@link #learningRate()}.
     */
    public double learningRate(int e) {
        double rate = schedule.learningRate(e, epochs, budget);
        return learningRate == PAPER_LEARNING_RATE ? rate : rate * (learningRate / PAPER_LEARNING_RATE);
    }

    /** Pixels per image of the run's dataset: the width of its model's input and output layers. */
    public int pixels() {
        return org.aiwae.data.Datasets.pixels(dataset);
    }

    /** A short label such as {@code aiwae K=5 T=5 L=5}. */
    public String label() {
        return method.key() + " K=" + samples + (method == Method.AIWAE ? " T=" + temperatures + " L=" + leapfrog : "");
    }

    /** The schedule as words: {@code short}, {@code paper} or {@code paper at budget 0.1}. */
    public String scheduleLabel() {
        return schedule + (budget == 1 ? "" : " at budget " + budget);
    }

    /** This run on the paper's schedule at a fraction {@code newBudget} of its length. */
    public TrainConfig withPaperSchedule(double newBudget) {
        return new TrainConfig(dataset, method, samples, temperatures, leapfrog, latent, hidden, batchSize,
                LearningRates.paperEpochs(newBudget), TrainSchedule.PAPER, trainLimit, seed, backend, evalSamples, evalImages,
                encoderKl, learningRate, newBudget);
    }

    /** This run over {@code newEpochs} epochs of {@code newSchedule} at the whole budget (the paper's is 3,280 epochs). */
    public TrainConfig withEpochs(int newEpochs, TrainSchedule newSchedule) {
        return new TrainConfig(dataset, method, samples, temperatures, leapfrog, latent, hidden, batchSize, newEpochs,
                newSchedule, trainLimit, seed, backend, evalSamples, evalImages, encoderKl, learningRate, 1.0);
    }

    public TrainConfig withBackend(String newBackend) {
        return new TrainConfig(dataset, method, samples, temperatures, leapfrog, latent, hidden, batchSize, epochs,
                schedule, trainLimit, seed, newBackend, evalSamples, evalImages, encoderKl, learningRate, budget);
    }
}
