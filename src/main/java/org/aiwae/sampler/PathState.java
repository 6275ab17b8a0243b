package org.aiwae.sampler;

import org.aiwae.engine.Tensor;

/**
 * The state of N chains on an annealing path: positions and both log-densities with their
 * gradients, so a change of temperature costs no new evaluation.
 */
public record PathState(Tensor position, Tensor log0, Tensor grad0, Tensor log1, Tensor grad1) {

    /** Evaluates {@code path} at {@code position} (which the state then owns). */
    public static PathState at(AnnealingPath path, Tensor position) {
        int n = path.chains(), d = path.dim();
        if (position.size() != n * d) {
            throw new IllegalArgumentException("PathState: " + position.size() + " values for " + n + " chains of dimension " + d);
        }
        PathState s = new PathState(position.reshape(n, d), Tensor.zeros(n), Tensor.zeros(n, d), Tensor.zeros(n), Tensor.zeros(n, d));
        path.evaluate(s.position, s.log0, s.grad0, s.log1, s.grad1);
        return s;
    }

    public int chains() {
        return position.dim(0);
    }

    public int dim() {
        return position.dim(1);
    }

    /** {@code log f_beta} of chain {@code n}. */
    public double logDensity(int n, double beta) {
        return (1 - beta) * log0.data()[log0.offset() + n] + beta * log1.data()[log1.offset() + n];
    }

    /** Copies chain {@code n} of {@code from} into this state. */
    void copyChain(PathState from, int n) {
        int d = dim();
        System.arraycopy(from.position.data(), from.position.offset() + n * d, position.data(), position.offset() + n * d, d);
        System.arraycopy(from.grad0.data(), from.grad0.offset() + n * d, grad0.data(), grad0.offset() + n * d, d);
        System.arraycopy(from.grad1.data(), from.grad1.offset() + n * d, grad1.data(), grad1.offset() + n * d, d);
        log0.data()[log0.offset() + n] = from.log0.data()[from.log0.offset() + n];
        log1.data()[log1.offset() + n] = from.log1.data()[from.log1.offset() + n];
    }

    static PathState zeros(int n, int d) {
        return new PathState(Tensor.zeros(n, d), Tensor.zeros(n), Tensor.zeros(n, d), Tensor.zeros(n), Tensor.zeros(n, d));
    }
}
