package org.aiwae.sampler;

import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.BinaryOp;

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
    /**
     * The multiplicative rule: after each observation a group's size is multiplied by {@code up} when its
     * acceptance was at least {@code target}, else by {@code down}, and kept in [{@code min}, {@code max}].
     * Also a {@link WindowAdaptation} choice (one group per chain).
     */
    public record Rule(double target, float up, float down, float min, float max) implements WindowAdaptation.StepSizeRule {
        /** The paper's AIWAE rule: x1.002 at acceptance >= 0.6 else x0.998, in [0.001, 0.3]. */
        public static final Rule AIWAE = new Rule(0.6, 1.002f, 0.998f, 0.001f, 0.3f);
        /** AIS evaluation's rule: x1.02 at acceptance >= 0.6 else x0.98, in [1e-4, 0.5]. */
        public static final Rule AIS = new Rule(0.6, 1.02f, 0.98f, 1e-4f, 0.5f);

        public Rule {
            if (!(min > 0 && min <= max) || !(up >= 1 && down > 0 && down <= 1) || !(target > 0 && target <= 1)) {
                throw new IllegalArgumentException("StepSizes.Rule: need 0 < min <= max, up >= 1 >= down > 0 and a target in (0, 1], got "
                        + "target " + target + ", up " + up + ", down " + down + ", [" + min + ", " + max + "]");
            }
        }
    }

    private final int slots;
    private final int groups;
    private final Rule rule;
    /** The sizes {@code [slots, groups]}, in the memory of the chains they were last used with. */
    private Tensor table;

    /** A {@code slots x groups} table of sizes, each starting at {@code initial} (within the rule's bounds), adapted by {@code rule}. */
    public StepSizes(int slots, int groups, float initial, Rule rule) {
        if (slots < 1 || groups < 1 || !(rule.min() <= initial && initial <= rule.max())) {
            throw new IllegalArgumentException("StepSizes: need slots, groups >= 1 and min <= initial <= max, got " + slots + " x " + groups
                    + " from " + initial + " for " + rule);
        }
        this.slots = slots;
        this.groups = groups;
        this.table = Tensor.full(initial, slots, groups);
        this.rule = rule;
    }

    /** The paper's AIWAE adaptation: one size per temperature, from 0.1, by {@link Rule#AIWAE}. */
    public static StepSizes aiwae(int temperatures) {
        return new StepSizes(temperatures - 1, 1, 0.1f, Rule.AIWAE);
    }

    /** AIS evaluation: one size per image, adapted after every temperature by {@link Rule#AIS}. */
    public static StepSizes ais(int images, float initial) {
        return new StepSizes(1, images, initial, Rule.AIS);
    }

    public Rule rule() {
        return rule;
    }

    public int slots() {
        return slots;
    }

    public int groups() {
        return groups;
    }

    /**
     * Keeps the sizes in {@code where}'s memory from now on (a copy the first time; nothing once they are there).
     * A loop calls it before its temporaries' scope opens: the table must outlive the scope.
     */
    public void moveTo(Placement where) {
        table(where);
    }

    private Tensor table(Placement where) {
        if (table.placement() != where) {
            table = table.to(where);
        }
        return table;
    }

    /** Slot {@code slot}'s sizes {@code [groups]} (clamped to the last slot), a view of the table in {@code where}'s memory. */
    private Tensor row(int slot, Placement where) {
        int s = Math.min(slot, slots - 1);
        return table(where).reshape(slots * groups).rows(s * groups, (s + 1) * groups);
    }

    /**
     * The step sizes of slot {@code slot} (clamped to the last slot) for {@code chains} chains, in
     * {@code where}'s memory as {@link Hmc#step} takes them: {@code [1, 1]} when every chain shares one
     * size (a view of the table: nothing is copied), else {@code [N, 1]} (chain n takes group n mod groups).
     */
    public Tensor forChains(int slot, Placement where, int chains) {
        Tensor s = row(slot, where);
        if (groups == 1) {
            return s.reshape(1, 1);
        }
        if (chains % groups != 0) {
            throw new IllegalArgumentException(chains + " chains are not a multiple of " + groups + " step-size groups");
        }
        Backend be = Backends.of(where);
        return be.binary(BinaryOp.ADD, where.zeros(chains / groups, groups), s.reshape(1, groups)).reshape(chains, 1);
    }

    /**
     * Adapts slot {@code slot} from which chains accepted ({@code accepted [N]}, 1 or 0, chains laid out
     * {@code [N / groups, groups]}) where they live, and writes the number of accepting chains to
     * {@code countInto} (one element in the same memory): no host read.
     */
    public void observe(int slot, Tensor accepted, Tensor countInto) {
        int n = accepted.size();
        if (n % groups != 0) {
            throw new IllegalArgumentException(n + " chains are not a multiple of " + groups + " step-size groups");
        }
        Backends.of("step sizes", accepted, countInto).adaptStepSizes(accepted, groups, threshold(n / groups), rule.up(), rule.down(),
                rule.min(), rule.max(), row(slot, accepted.placement()), countInto);
    }

    /** {@link #observe(int, Tensor, Tensor)} that returns the fraction of chains that accepted (a host read on a device). */
    public double observe(int slot, Tensor accepted) {
        Tensor count = accepted.placement().zeros(1);
        observe(slot, accepted, count);
        return count.item() / (double) accepted.size();
    }

    /**
     * The fewest accepting chains out of {@code per} at which a group's acceptance {@code count / per} (in double)
     * reaches the target, so the rule compares whole counts on any backend; {@code per + 1} when none does.
     */
    private int threshold(int per) {
        for (int c = 0; c <= per; c++) {
            if ((double) c / per >= rule.target()) {
                return c;
            }
        }
        return per + 1;
    }

    /** The current sizes of slot {@code slot} (a host read on a device). */
    public float[] slot(int slot) {
        return row(slot, table.placement()).toArray();
    }

    /** All sizes, slot-major, for checkpoints (a host read on a device). */
    public float[] toArray() {
        return table.toArray();
    }

    public void load(float[] values) {
        if (values.length != slots * groups) {
            throw new IllegalArgumentException("StepSizes: " + values.length + " values for " + slots + "x" + groups);
        }
        table.copyFrom(values);
    }
}
