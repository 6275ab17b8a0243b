package org.aiwae.engine.autodiff;

import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backends;

/**
 * Gradients with respect to chosen leaves only, as {@code torch.autograd.grad} does: the graph is
 * pruned at every other leaf, so a backward pass for d/dz of log p(x, z) neither computes nor
 * touches the parameters' gradients, and an encoder loss can reach only the encoder.
 */
public final class Autograd {
    private Autograd() {}

    /** The value of {@code scalar} and its gradients with respect to {@code wrt}, nothing else accumulated. */
    public record Result(Var output, Tensor[] grads) {}

    /**
     * Builds {@code scalar} with gradients flowing only to {@code wrt}, back-propagates, and returns
     * the gradients (also inside a {@link NoGrad} scope); the gradients already held by {@code wrt} are left as they were.
     */
    public static Result grad(Supplier<Var> scalar, Var... wrt) {
        return within(List.of(wrt), () -> {
            Tensor[] saved = new Tensor[wrt.length];
            for (int i = 0; i < wrt.length; i++) {
                saved[i] = wrt[i].grad();
                wrt[i].zeroGrad();
            }
            Var out = scalar.get();
            out.backward();
            Tensor[] grads = new Tensor[wrt.length];
            for (int i = 0; i < wrt.length; i++) {
                grads[i] = wrt[i].grad() == null ? Backends.of(wrt[i].value()).zeros(wrt[i].shape()) : wrt[i].grad();
                wrt[i].zeroGrad();
                if (saved[i] != null) {
                    wrt[i].accumulate(saved[i]);
                }
            }
            return new Result(out, grads);
        });
    }

    /** Builds {@code scalar} and back-propagates it into {@code leaves} only (accumulating into their gradients). */
    public static Var backward(Collection<Var> leaves, Supplier<Var> scalar) {
        return within(leaves, () -> {
            Var out = scalar.get();
            out.backward();
            return out;
        });
    }

    /** Records a graph even inside {@link NoGrad}: asking for gradients is an explicit request (torch.enable_grad). */
    private static <T> T within(Collection<Var> leaves, Supplier<T> body) {
        Set<Var> previous = Var.restriction();
        Set<Var> only = Collections.newSetFromMap(new IdentityHashMap<>());
        only.addAll(leaves);
        Var.restrict(only);
        int depth = NoGrad.suspend();
        try {
            return body.get();
        } finally {
            NoGrad.resume(depth);
            Var.restrict(previous);
        }
    }
}
