package org.aiwae.engine.autodiff;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.Backends;

/**
 * A node of the autodiff graph: a value, its gradient, and how to send a gradient to its parents.
 *
 * <p>As in micrograd, the graph is the tape: every op in {@link Ops} returns a {@code Var} that
 * remembers its parents and a backward function written next to its forward. {@link #backward()}
 * orders the graph topologically and runs the backward functions in reverse. Leaves created with
 * {@link #param} keep (and accumulate) their gradient across calls until {@link #zeroGrad()};
 * intermediate nodes release theirs once used. Inside {@link NoGrad} nothing is recorded.
 */
public final class Var {

    /** Receives the gradient of the output and accumulates into the parents. */
    @FunctionalInterface
    public interface Backward {
        void apply(Tensor gradOut);
    }

    /** While set, only these leaves take gradients (see {@link Autograd}). */
    private static final ThreadLocal<Set<Var>> ONLY = new ThreadLocal<>();

    private final Tensor value;
    private final boolean requiresGrad;
    private final boolean leaf;
    private final String op;
    private Var[] parents;
    private Backward backward;
    private Tensor grad;

    private Var(Tensor value, boolean requiresGrad, String op, Var[] parents, Backward backward) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.leaf = backward == null;
        this.op = op;
        this.parents = parents;
        this.backward = backward;
    }

    /** A trainable leaf: gradients accumulate into it. */
    public static Var param(Tensor value) {
        return new Var(value, true, "param", new Var[0], null);
    }

    /** A leaf that receives no gradient (data, constants). */
    public static Var constant(Tensor value) {
        return new Var(value, false, "const", new Var[0], null);
    }

    /** A leaf input, for example latent samples z when d/dz is wanted. */
    public static Var input(Tensor value, boolean requiresGrad) {
        return new Var(value, requiresGrad, "input", new Var[0], null);
    }

    /** Used by ops: records the node unless no parent needs a gradient or {@link NoGrad} is active. */
    public static Var result(String op, Tensor value, Backward backward, Var... parents) {
        boolean needs = false;
        if (!NoGrad.active()) {
            for (Var p : parents) {
                needs |= p.requiresGrad();
            }
        }
        return needs ? new Var(value, true, op, parents, backward) : new Var(value, false, op, new Var[0], null);
    }

    public Tensor value() {
        return value;
    }

    /** The accumulated gradient, or null when none has arrived. */
    public Tensor grad() {
        return grad;
    }

    /** Whether a gradient flows to this node (for a leaf, also whether it is inside the current {@link Autograd} restriction). */
    public boolean requiresGrad() {
        if (!requiresGrad || !leaf) {
            return requiresGrad;
        }
        Set<Var> only = ONLY.get();
        return only == null || only.contains(this);
    }

    static Set<Var> restriction() {
        return ONLY.get();
    }

    static void restrict(Set<Var> leaves) {
        if (leaves == null) {
            ONLY.remove();
        } else {
            ONLY.set(leaves);
        }
    }

    public int[] shape() {
        return value.shape();
    }

    /** Name of the op that produced this node. */
    public String op() {
        return op;
    }

    /** Clears the accumulated gradient. */
    public void zeroGrad() {
        grad = null;
    }

    /**
     * Adds {@code g} (same shape as the value) into the gradient. The first gradient is kept as it is (no copy:
     * it may be a tensor the caller or another node also holds), so a gradient is never written in place: a
     * later one makes a new sum. Nothing in the engine writes into a gradient it was given.
     */
    public void accumulate(Tensor g) {
        if (!requiresGrad()) {
            return;
        }
        if (g.size() != value.size()) {
            throw new IllegalStateException(op + ": gradient of shape " + Shapes.str(g.shape())
                    + " for a value of shape " + Shapes.str(value.shape()));
        }
        if (grad == null) {
            grad = g.reshape(value.shape());
        } else {
            grad = Backends.of(op, grad, g).binary(BinaryOp.ADD, grad, g.reshape(grad.shape()));
        }
    }

    /** Back-propagates from a scalar (size-1) output. */
    public void backward() {
        if (value.size() != 1) {
            throw new IllegalStateException("backward() needs a scalar output, got shape " + Shapes.str(value.shape())
                    + "; pass a seed gradient");
        }
        backward(Backends.of(value).full(1f, value.shape()));
    }

    /** Back-propagates {@code seed}, the gradient of some scalar with respect to this node. */
    public void backward(Tensor seed) {
        if (!requiresGrad()) {
            throw new IllegalStateException("backward(): nothing in this graph requires a gradient");
        }
        List<Var> order = topologicalOrder();
        accumulate(seed);
        for (int i = order.size() - 1; i >= 0; i--) {
            Var v = order.get(i);
            if (v.backward != null && v.grad != null) {
                v.backward.apply(v.grad);
                // An interior node is used once: free its gradient and its links to the graph.
                v.grad = null;
                v.backward = null;
                v.parents = new Var[0];
            }
        }
    }

    private List<Var> topologicalOrder() {
        List<Var> order = new ArrayList<>();
        Set<Var> seen = new HashSet<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {this, 0});
        seen.add(this);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Var v = (Var) frame[0];
            int next = (int) frame[1];
            if (next < v.parents.length) {
                frame[1] = next + 1;
                Var p = v.parents[next];
                if (p.requiresGrad() && seen.add(p)) {
                    stack.push(new Object[] {p, 0});
                }
            } else {
                stack.pop();
                order.add(v);
            }
        }
        return order;
    }

    @Override
    public String toString() {
        return "Var(" + op + ", " + value + ")";
    }
}
