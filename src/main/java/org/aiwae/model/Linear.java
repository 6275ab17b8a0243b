package org.aiwae.model;

import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.RandomStream;

/**
 * A fully connected layer {@code y = x W^T + b}, {@code W} of shape {@code [out, in]} as in PyTorch.
 *
 * @param name prefix of the parameter names, e.g. {@code dec.l1}
 */
public record Linear(String name, Var weight, Var bias) {

    /** PyTorch's default initialisation: W and b uniform in +-1/sqrt(in). */
    public static Linear init(String name, int in, int out, RandomStream rng) {
        float bound = (float) (1 / Math.sqrt(in));
        Tensor w = rng.uniform(out, in);
        Tensor b = rng.uniform(out);
        for (Tensor t : new Tensor[] {w, b}) {
            float[] d = t.data();
            for (int i = 0; i < d.length; i++) {
                d[i] = (2 * d[i] - 1) * bound;
            }
        }
        return new Linear(name, Var.param(w), Var.param(b));
    }

    /** This layer with its parameters in {@code where}'s memory (itself when they are there already). */
    public Linear to(Placement where) {
        Tensor w = weight.value(), b = bias.value();
        if (where.isHost() ? w.onHost() && b.onHost() : w.placement() == where && b.placement() == where) {
            return this;
        }
        return new Linear(name, Var.param(w.to(where)), Var.param(b.to(where)));
    }

    public Var apply(Var x) {
        return Ops.linear(x, weight, bias);
    }

    public int in() {
        return weight.value().dim(1);
    }

    public int out() {
        return weight.value().dim(0);
    }
}
