package org.aiwae.sampler;

import java.util.function.UnaryOperator;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Autograd;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;

/**
 * An unnormalised log-density over N chains at once, with its gradient: what HMC needs of a target.
 * Positions are {@code [N, D]}; the value is {@code [N]} and the gradient {@code [N, D]}, in the
 * positions' memory (host or device). {@link #autodiff} derives the gradient from any function
 * written with engine ops; a fused kernel gives both in one pass where a backend has one.
 */
@FunctionalInterface
public interface LogDensity {

    /** {@code log f} and {@code d log f / dz} at {@code position [N, D]}. */
    Value at(Tensor position);

    /**
     * {@code d log f / dz} alone, {@code [N, D]}: what a leapfrog step between a trajectory's ends
     * needs. The same bits as {@code at(position).gradient()}, which it is unless an implementation
     * can skip the value's own work (the fused decoder kernel skips the log-likelihood terms).
     */
    default Tensor gradient(Tensor position) {
        return at(position).gradient();
    }

    /**
     * Where this is a diagonal Gaussian in closed form, its score as {@link org.aiwae.engine.backend.Backend#scaledDifference}
     * computes it (the same bits as {@link #gradient}), so that a leapfrog kick can compute it in place; else null.
     */
    default org.aiwae.engine.backend.Backend.GaussianScore gaussianScore() {
        return null;
    }

    /** A log-density and its gradient at N positions. */
    record Value(Tensor logDensity, Tensor gradient) {}

    /**
     * The log-density that {@code f} computes from positions {@code [N, D]} (a variable that requires
     * its gradient) as {@code [N]} (or N values in another shape, read in order), its gradient by
     * reverse-mode autodiff. Only the positions are differentiated: tensors {@code f} captures are
     * constants. Any other number of values is an error naming N.
     */
    static LogDensity autodiff(UnaryOperator<Var> f) {
        return position -> {
            Var z = Var.input(position, true);
            Tensor[] value = new Tensor[1];
            int chains = position.dim(0);
            Autograd.Result r = Autograd.grad(() -> {
                Var v = f.apply(z);
                if (v.value().size() != chains) { // [N], or N values in another layout (the annealer's [K, B])
                    throw new IllegalArgumentException("the log density must return [N] for N = " + chains + " chains, got "
                            + Shapes.str(v.shape()));
                }
                value[0] = v.value();
                return Ops.sum(v);
            }, z);
            return new Value(value[0].reshape(position.dim(0)), r.grads()[0].reshape(position.shape()));
        };
    }
}
