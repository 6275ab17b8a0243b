package org.aiwae.sampler;

import java.util.Arrays;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.ReduceOp;

/**
 * Leapfrog step sizes adapted toward a target acceptance rate by a multiplicative rule: after each
 * observation, multiplied by {@code up} when the acceptance was at least {@code target}, else by
 * {@code down}, and kept in [{@code min}, {@code max}].
 *
 * <p>Sizes live in a {@code slots x groups} table. Chains are laid out {@code [K, B]}, so chain n
 * belongs to group {@code n mod groups}. The paper's AIWAE keeps one size per temperature
 * ({@code slots = T - 1, groups = 1}); AIS evaluation keeps one size per image that every
 * temperature shares ({@code slots = 1, groups = B}).
 */
public final class StepSizes {
    private final float[][] size;
    private final double target;
    private final float up;
    private final float down;
    private final float min;
    private final float max;

    public StepSizes(int slots, int groups, float initial, double target, float up, float down, float min, float max) {
        if (slots < 1 || groups < 1 || !(min > 0 && min <= initial && initial <= max) || !(up >= 1 && down > 0 && down <= 1)) {
            throw new IllegalArgumentException("StepSizes: need slots, groups >= 1, 0 < min <= initial <= max, up >= 1 >= down > 0");
        }
        this.size = new float[slots][groups];
        for (float[] s : size) {
            Arrays.fill(s, initial);
        }
        this.target = target;
        this.up = up;
        this.down = down;
        this.min = min;
        this.max = max;
    }

    /** The paper's AIWAE rule: one size per temperature, from 0.1, x1.002 at acceptance >= 0.6 else x0.998, in [0.001, 0.3]. */
    public static StepSizes aiwae(int temperatures) {
        return new StepSizes(temperatures - 1, 1, 0.1f, 0.6, 1.002f, 0.998f, 0.001f, 0.3f);
    }

    /** AIS evaluation: one size per image, adapted after every temperature toward acceptance 0.6 (x1.02 / x0.98). */
    public static StepSizes ais(int images, float initial) {
        return new StepSizes(1, images, initial, 0.6, 1.02f, 0.98f, 1e-4f, 0.5f);
    }

    public int slots() {
        return size.length;
    }

    public int groups() {
        return size[0].length;
    }

    /**
     * The step sizes of slot {@code slot} (clamped to the last slot) for {@code chains} chains, in
     * {@code where}'s memory as {@link Hmc#step} takes them: {@code [1, 1]} when every chain shares one
     * size (a fill: nothing is copied), else {@code [N, 1]}.
     */
    public Tensor forChains(int slot, Placement where, int chains) {
        float[] s = size[Math.min(slot, size.length - 1)];
        if (s.length == 1) {
            return Backends.of(where).full(s[0], 1, 1);
        }
        float[] per = new float[chains];
        for (int n = 0; n < chains; n++) {
            per[n] = s[n % s.length];
        }
        Tensor t = Tensor.of(per, chains, 1);
        return where.isHost() ? t : where.upload(t);
    }

    /**
     * Adapts slot {@code slot} from which chains accepted ({@code accepted [N]}, 1 or 0, in any memory:
     * its per-group counts are read to the host); returns the mean acceptance.
     */
    public double observe(int slot, Tensor accepted) {
        float[] s = size[Math.min(slot, size.length - 1)];
        int g = s.length, n = accepted.size();
        if (n % g != 0) {
            throw new IllegalArgumentException(n + " chains are not a multiple of " + g + " step-size groups");
        }
        Backend be = Backends.of(accepted);
        float[] acc = be.reduce(ReduceOp.SUM, accepted.reshape(n / g, g), 0).toArray();
        double all = 0;
        for (int i = 0; i < g; i++) {
            float f = (double) acc[i] / (n / g) >= target ? up : down;
            s[i] = Math.min(max, Math.max(min, s[i] * f));
            all += acc[i];
        }
        return all / n;
    }

    /** The current sizes of slot {@code slot}. */
    public float[] slot(int slot) {
        return size[slot].clone();
    }

    /** All sizes, slot-major, for checkpoints. */
    public float[] toArray() {
        float[] out = new float[size.length * size[0].length];
        for (int i = 0; i < size.length; i++) {
            System.arraycopy(size[i], 0, out, i * size[0].length, size[0].length);
        }
        return out;
    }

    public void load(float[] values) {
        if (values.length != size.length * size[0].length) {
            throw new IllegalArgumentException("StepSizes: " + values.length + " values for " + size.length + "x" + size[0].length);
        }
        for (int i = 0; i < size.length; i++) {
            System.arraycopy(values, i * size[0].length, size[i], 0, size[0].length);
        }
    }
}
