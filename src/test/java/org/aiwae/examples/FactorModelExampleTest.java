package org.aiwae.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.eval.Sample;
import org.aiwae.eval.Evaluator;
import org.aiwae.kernels.OnEveryBackend;
import org.aiwae.kernels.TestBackends;
import org.aiwae.objective.Aiwae;
import org.aiwae.sampler.Schedule;
import org.aiwae.train.TrainingStep;

/**
 * The README's example: a user-defined model (factor analysis, {@link FactorModel}, not the
 * paper's MLP) trained with AIWAE in a few lines, its log p(x) estimated by AIS and checked
 * against the closed form. The model has no fused kernel, so everything runs on autodiff.
 */
class FactorModelExampleTest {

    /**
     * On every backend ({@link OnEveryBackend}): the model and the data move there with {@code to(backend)} and
     * the README's lines run unchanged with that backend (the README shows {@code Backends.cpu()}).
     */
    @OnEveryBackend
    void trainAFactorModelWithAiwaeAndCheckAisAgainstTheClosedForm(String name) {
        Backend backend = TestBackends.get(name);
        RandomStream rng = new RandomStream(0);
        FactorModel truth = FactorModel.random(8, 2, rng);        // the data's generator
        Tensor data = truth.sample(512, rng).to(backend);
        FactorModel model = FactorModel.random(8, 2, new RandomStream(1)).to(backend);
        double before = Sample.of(model.exactLogMarginal(data)).mean();

        // --- README snippet: train with AIWAE (K=5, T=5, L=5), then estimate log p(x) by AIS
        TrainingStep step = new TrainingStep(model, new Aiwae(5, 5, 5, Schedule.linear(), backend));
        for (int it = 0; it < 300; it++) {
            int from = (it % 16) * 32;
            step.run(data.rows(from, from + 32), rng, 3e-3);
        }
        Evaluator ais = new Evaluator(16, 500, 10, 1000, 100, backend); // chains, temperatures, leapfrog, NVLB samples, batch
        double[] logPx = ais.logLikelihood(model, data.rows(0, 20), 7); // seed 7: each image has its own streams
        // ---

        double after = Sample.of(model.exactLogMarginal(data)).mean();
        assertTrue(after > before + 1, "training should raise the exact log-likelihood: " + before + " -> " + after);
        double[] exact = model.exactLogMarginal(data.rows(0, 20));
        // a trained encoder makes AIS tight: 0.05 on the mean of 20 images (see EstimatorTest for the reasoning)
        assertEquals(Sample.of(exact).mean(), Sample.of(logPx).mean(), 0.05, "AIS vs closed form");
    }
}
