package org.aiwae.train;

/**
 * The optimisation schedule of the IWAE study that the paper uses (Appendix A): stage
 * i = 0..7 runs 3^i epochs at learning rate {@code 0.001 * 10^(-i/7)}, 3,280 epochs in all.
 * A fraction {@code b} of that budget gives stage i {@code ceil(3^i b)} epochs, so every rate is
 * visited and the late, long stages keep their share: b = 0.1 runs 1, 1, 1, 3, 9, 25, 73 and 219
 * epochs, 332 in all.
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

    /** Epochs of stage {@code stage} at a fraction {@code budget} of the paper's: {@code ceil(3^stage budget)}. */
    public static int stageEpochs(int stage, double budget) {
        // the tolerance keeps budgets such as 1/3 from rounding a whole 3^i b up by one
        return (int) Math.ceil(StrictMath.pow(3, stage) * budget - 1e-9);
    }

    /** The epochs of the paper's schedule at a fraction {@code budget} of its length (3,280 at 1, 332 at 0.1). */
    public static int paperEpochs(double budget) {
        int sum = 0;
        for (int i = 0; i < STAGES; i++) {
            sum += stageEpochs(i, budget);
        }
        return sum;
    }

    /** The paper's rate for 0-based epoch {@code e}. */
    public static double paper(int e) {
        return paper(e, 1);
    }

    /** The rate for 0-based epoch {@code e} of the paper's schedule at a fraction {@code budget} of its length. */
    public static double paper(int e, double budget) {
        int end = 0;
        for (int i = 0; i < STAGES; i++) {
            end += stageEpochs(i, budget);
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
