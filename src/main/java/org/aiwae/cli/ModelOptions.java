package org.aiwae.cli;

import org.aiwae.data.Datasets;
import org.aiwae.objective.EncoderKl;
import org.aiwae.train.Method;
import org.aiwae.train.TrainConfig;
import org.aiwae.train.TrainSchedule;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The flags that define a model and its training data, shared by {@code train} and {@code bench}.
 * Each flag is a {@link TrainConfig} field of the same name ({@code --batch-size} is {@code batch_size}).
 */
final class ModelOptions {
    @Option(names = "--dataset", paramLabel = "DATASET", defaultValue = "embedded", converter = DatasetName.class,
            completionCandidates = DatasetName.class,
            description = "${COMPLETION-CANDIDATES} (embedded: 2,000 train / 500 test MNIST digits inside the jar); "
                    + "default: ${DEFAULT-VALUE}")
    String dataset;

    @Option(names = "--method", paramLabel = "METHOD", defaultValue = "aiwae",
            description = "${COMPLETION-CANDIDATES}: the training objective; default: ${DEFAULT-VALUE}")
    Method method;

    @Option(names = "--samples", paramLabel = "K", defaultValue = "5",
            description = "importance / annealed samples per data point; default: ${DEFAULT-VALUE}")
    int samples;

    @Option(names = "--temperatures", paramLabel = "T", defaultValue = "5",
            description = "AIWAE: inverse temperatures t/(T-1), t = 0..T-1; default: ${DEFAULT-VALUE}")
    int temperatures;

    @Option(names = "--leapfrog", paramLabel = "L", defaultValue = "5",
            description = "AIWAE: leapfrog steps per HMC transition; default: ${DEFAULT-VALUE}")
    int leapfrog;

    @Option(names = "--latent", paramLabel = "N", defaultValue = "50",
            description = "latent dimensions (2 for the posterior figures); default: ${DEFAULT-VALUE}")
    int latent;

    @Option(names = "--hidden", paramLabel = "N", defaultValue = "200",
            description = "units per hidden layer; default: ${DEFAULT-VALUE}")
    int hidden;

    @Option(names = "--batch-size", paramLabel = "B",
            description = "minibatch size; default: 20 on embedded, else the paper's: 128 for aiwae and 20 otherwise")
    Integer batchSize;

    @Option(names = "--train-limit", paramLabel = "N",
            description = "use only the first N training images (N >= 1); default: all")
    Integer trainLimit;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "random seed; the same seed on the CPU backend gives the same files; default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--encoder-kl", paramLabel = "KL",
            description = "AIWAE's encoder ascends the ELBO with the KL term analytic (closed form, the authors' choice) or "
                    + "sample (Monte Carlo log p - log q); default: analytic for aiwae (vae and iwae sample)")
    EncoderKl encoderKl;

    /** The configuration these flags give, with the rest from the arguments; bad values name their flag. */
    TrainConfig config(CommandSpec spec, int epochs, TrainSchedule schedule, String backend, int evalSamples, int evalImages,
                       double learningRate) {
        int batch = batchSize != null ? batchSize : defaultBatch(dataset, method);
        checkGiven(spec);
        int limit = trainLimit == null ? 0 : trainLimit;
        return Flags.checked(spec, () -> new TrainConfig(dataset, method, samples, temperatures, leapfrog, latent, hidden, batch,
                epochs, schedule, limit, seed, backend, evalSamples, evalImages,
                encoderKl != null ? encoderKl : method == Method.AIWAE ? EncoderKl.ANALYTIC : EncoderKl.SAMPLE, learningRate));
    }

    /**
     * The checks of a given flag that are not a configuration field's own (also on --resume, where the
     * flags are compared with config.json): a count of images is at least 1 (absent is all; 0 is not a way to say so).
     */
    void checkGiven(CommandSpec spec) {
        if (trainLimit != null) {
            Flags.atLeast(spec, "--train-limit", trainLimit, 1);
        }
    }

    /**
     * The paper's minibatch (20, or 128 for AIWAE), except on the embedded 2,000 images, where
     * every method takes 20: 100 updates per epoch instead of 16 (docs/training.md).
     */
    static int defaultBatch(String dataset, Method method) {
        return dataset.equals("embedded") ? 20 : method.defaultBatch();
    }

    static final class DatasetName extends java.util.ArrayList<String> implements ITypeConverter<String> {
        DatasetName() {
            super(Datasets.NAMES);
        }

        @Override
        public String convert(String value) {
            if (!Datasets.NAMES.contains(value)) {
                throw new TypeConversionException("unknown dataset '" + value + "'; choose one of " + String.join(", ", Datasets.NAMES));
            }
            return value;
        }
    }
}
