package org.aiwae.train;

/**
 * The optimisation schedule of the IWAE study that the paper uses (Appendix A): stage
 * i = 0..7 runs 3^i epochs at learning rate {@code 0.001 * 10^(-i/7)}, 3,280 epochs in all.
 *
 * <p>A shorter run of N epochs ({@code --epochs N}) keeps the same eight learning rates in the
 * same order and gives each stage an equal share of the epochs: epoch e (0-based) is in stage
 * {@code floor(8 e / N)}. So 16 epochs run two at each rate; 4 epochs use stages 0, 2, 4 and 6.
 */
public final class LearningRates {
    public static final int STAGES = 8;

    private LearningRates() {}

    public static double rate(int stage) {
        return 1e-3 * StrictMath.pow(10, -stage / 7.0);
    }

    /** The paper's rate for 0-based epoch {@code e}. */
    public static double paper(int e) {
        int end = 0;
        for (int i = 0; i < STAGES; i++) {
            end += (int) StrictMath.pow(3, i);
            if (e < end) {
                return rate(i);
            }
        }
        return rate(STAGES - 1);
    }

    /** The shortened schedule's rate for 0-based epoch {@code e} of {@code epochs}. */
    public static double shortened(int e, int epochs) {
        return rate(Math.min(STAGES - 1, (int) ((long) STAGES * e / epochs)));
    }
}
