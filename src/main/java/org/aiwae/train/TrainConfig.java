package org.aiwae.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.aiwae.AiwaeException;

/**
 * Everything that defines a training run. {@code epochs} is the run's length; with
 * {@code schedule = "paper"} it is 3,280 and the learning rates follow Appendix A exactly.
 */
public record TrainConfig(String dataset, String method, int samples, int temperatures, int leapfrog,
                          int latent, int hidden, int batchSize, int epochs, String schedule, int trainLimit,
                          long seed, String backend, int evalSamples, int evalImages) {

    public static final int PAPER_EPOCHS = 3280;

    /** Fails with one line on impossible settings. */
    public TrainConfig {
        check(java.util.List.of("vae", "iwae", "aiwae").contains(method), "unknown method '" + method + "'; choose vae, iwae or aiwae");
        check(samples >= 1, "--samples (K) must be at least 1, got " + samples);
        check(!method.equals("aiwae") || temperatures >= 2, "--temperatures (T) must be at least 2, got " + temperatures);
        check(!method.equals("aiwae") || leapfrog >= 1, "--leapfrog (L) must be at least 1, got " + leapfrog);
        check(latent >= 1, "--latent must be at least 1, got " + latent);
        check(hidden >= 1, "--hidden must be at least 1, got " + hidden);
        check(batchSize >= 1, "--batch-size must be at least 1, got " + batchSize);
        check(epochs >= 1, "--epochs must be at least 1, got " + epochs);
        check(schedule.equals("paper") || schedule.equals("short"), "unknown schedule '" + schedule + "'; choose paper (or give --epochs N)");
        check(!schedule.equals("paper") || epochs == PAPER_EPOCHS, "the paper schedule runs " + PAPER_EPOCHS + " epochs");
        check(trainLimit >= 0, "--train-limit must be positive, got " + trainLimit);
        check(evalSamples >= 1, "--eval-samples must be at least 1, got " + evalSamples);
        check(evalImages >= 1, "--eval-images must be at least 1, got " + evalImages);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new AiwaeException(message);
        }
    }

    /** The paper's minibatch: 20 for VAE and IWAE, 128 for AIWAE. */
    public static int defaultBatch(String method) {
        return method.equals("aiwae") ? 128 : 20;
    }

    /** Learning rate for 0-based epoch {@code e} (see {@link LearningRates}). */
    public double learningRate(int e) {
        return schedule.equals("paper") ? LearningRates.paper(e) : LearningRates.shortened(e, epochs);
    }

    /** A short label such as {@code aiwae K=5 T=5 L=5}. */
    public String label() {
        return method + " K=" + samples + (method.equals("aiwae") ? " T=" + temperatures + " L=" + leapfrog : "");
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dataset", dataset);
        m.put("method", method);
        m.put("samples", samples);
        m.put("temperatures", temperatures);
        m.put("leapfrog", leapfrog);
        m.put("latent", latent);
        m.put("hidden", hidden);
        m.put("batch_size", batchSize);
        m.put("epochs", epochs);
        m.put("schedule", schedule);
        m.put("train_limit", trainLimit);
        m.put("seed", seed);
        m.put("backend", backend);
        m.put("eval_samples", evalSamples);
        m.put("eval_images", evalImages);
        return m;
    }

    public static TrainConfig fromMap(Map<String, ?> m, Path source) {
        try {
            return new TrainConfig((String) m.get("dataset"), (String) m.get("method"), num(m, "samples"),
                    num(m, "temperatures"), num(m, "leapfrog"), num(m, "latent"), num(m, "hidden"), num(m, "batch_size"),
                    num(m, "epochs"), (String) m.get("schedule"), num(m, "train_limit"), (long) dbl(m, "seed"),
                    (String) m.get("backend"), num(m, "eval_samples"), num(m, "eval_images"));
        } catch (ClassCastException | NullPointerException | NumberFormatException e) {
            throw new AiwaeException(source + " does not hold a complete training configuration");
        }
    }

    private static int num(Map<String, ?> m, String k) {
        return (int) dbl(m, k);
    }

    private static double dbl(Map<String, ?> m, String k) {
        Object v = m.get(k);
        return v instanceof Number n ? n.doubleValue() : Double.parseDouble((String) v);
    }

    public TrainConfig withEpochs(int newEpochs, String newSchedule) {
        return new TrainConfig(dataset, method, samples, temperatures, leapfrog, latent, hidden, batchSize, newEpochs,
                newSchedule, trainLimit, seed, backend, evalSamples, evalImages);
    }

    public TrainConfig withBackend(String newBackend) {
        return new TrainConfig(dataset, method, samples, temperatures, leapfrog, latent, hidden, batchSize, epochs,
                schedule, trainLimit, seed, newBackend, evalSamples, evalImages);
    }
}
