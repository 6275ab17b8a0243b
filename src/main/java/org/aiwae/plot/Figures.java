package org.aiwae.plot;

import java.util.List;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.NoGrad;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.model.DiagonalGaussian;
import org.aiwae.model.MlpVae;

/** The paper's pictures: posterior heat maps (Figures S0-S9) and sample / reconstruction grids. */
public final class Figures {
    private Figures() {}

    static final int GAP = 4;

    /**
     * Posterior panels: column j shows data point j ({@code x [n, 784]}, 28x28) in the top row and, in
     * row i + 1, the posterior p(z|x_j) of model i as a heat map of {@code panel} pixels.
     */
    public static Canvas posterior(List<MlpVae> models, Tensor x, int panel) {
        int n = x.dim(0), side = 28, scale = Math.max(1, panel / side);
        int rows = models.size() + 1;
        Canvas canvas = new Canvas(GAP + n * (panel + GAP), GAP + rows * (panel + GAP));
        for (int j = 0; j < n; j++) {
            int x0 = GAP + j * (panel + GAP);
            int pad = (panel - side * scale) / 2;
            canvas.grey(x.toArray(), j * side * side, side, side, x0 + pad, GAP + pad, scale);
            for (int i = 0; i < models.size(); i++) {
                PosteriorGrid g = PosteriorGrid.of(models.get(i), x.rows(j, j + 1), panel);
                canvas.heat(g.weights(), panel, panel, x0, GAP + (i + 1) * (panel + GAP));
            }
        }
        return canvas;
    }

    /**
     * Three blocks side by side, each a {@code grid x grid} mosaic of 28x28 digits: decoder means
     * of z drawn from the prior, the data {@code x}, and the reconstructions (decoder mean at the
     * encoder mean of each data point).
     */
    public static Canvas samplesAndReconstructions(MlpVae model, Tensor x, int grid, RandomStream rng) {
        int count = grid * grid, side = 28, scale = 2, cell = side * scale, block = grid * cell;
        float[] samples, recon;
        try (NoGrad ignored = NoGrad.enter()) {
            samples = Ops.sigmoid(model.decode(Var.constant(rng.normal(count, model.latentDim())))).value().toArray();
            DiagonalGaussian q = model.posterior(Var.constant(x));
            recon = Ops.sigmoid(model.decode(q.mu())).value().toArray();
        }
        float[][] blocks = {samples, x.toArray(), recon};
        Canvas canvas = new Canvas(GAP + 3 * (block + 4 * GAP), GAP + block + GAP);
        for (int b = 0; b < 3; b++) {
            int bx = GAP + b * (block + 4 * GAP);
            for (int k = 0; k < Math.min(count, blocks[b].length / (side * side)); k++) {
                canvas.grey(blocks[b], k * side * side, side, side, bx + (k % grid) * cell, GAP + (k / grid) * cell, scale);
            }
        }
        return canvas;
    }
}
