package org.aiwae.sampler;

import java.util.ArrayList;
import java.util.List;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;

/**
 * Where N chains are, with what their {@link Target} computed there: the position {@code [N, D]}
 * and, for each of the target's terms, its log-density {@code [N]} and gradient {@code [N, D]}.
 * Kept with the position so that neither a Metropolis test nor a change of temperature evaluates
 * the densities again. Immutable: a step returns a new state.
 */
public record HmcState(Tensor position, List<Tensor> logDensities, List<Tensor> gradients) {

    public HmcState {
        logDensities = List.copyOf(logDensities);
        gradients = List.copyOf(gradients);
        if (position.rank() != 2 || logDensities.size() != gradients.size()) {
            throw new IllegalArgumentException("HmcState: positions must be [N, D] with one gradient per log-density");
        }
    }

    /** The log density {@code [N]} of a state of one log density (an {@link HmcKernel}'s). */
    public Tensor logDensity() {
        if (logDensities.size() != 1) {
            throw new IllegalStateException("this state has " + logDensities.size() + " log-density terms; read logDensities()");
        }
        return logDensities.get(0);
    }

    public int chains() {
        return position.dim(0);
    }

    public int dim() {
        return position.dim(1);
    }

    /** Chain by chain, this state's values where {@code mask [N]} is nonzero, else {@code other}'s. */
    public HmcState where(Tensor mask, HmcState other) {
        Backend be = Backends.of("where", mask, position);
        List<Tensor> logs = new ArrayList<>(), grads = new ArrayList<>();
        for (int i = 0; i < logDensities.size(); i++) {
            logs.add(be.where(mask, logDensities.get(i), other.logDensities.get(i)));
            grads.add(be.where(mask, gradients.get(i), other.gradients.get(i)));
        }
        return new HmcState(be.where(mask, position, other.position), logs, grads);
    }

    /** Chain by chain, overwrites this state's values with {@code proposal}'s where {@code accepted [N]} is nonzero, in place. */
    void acceptInto(Tensor accepted, HmcState proposal) {
        List<Tensor> from = new ArrayList<>(), into = new ArrayList<>();
        from.add(proposal.position);
        into.add(position);
        for (int i = 0; i < logDensities.size(); i++) {
            from.add(proposal.logDensities.get(i));
            into.add(logDensities.get(i));
            from.add(proposal.gradients.get(i));
            into.add(gradients.get(i));
        }
        Backends.of("accept", accepted, position).selectAllInto(accepted, from, into);
    }

    /** A copy in fresh tensors of the same placement. */
    HmcState copy() {
        return new HmcState(position.copy(), logDensities.stream().map(Tensor::copy).toList(),
                gradients.stream().map(Tensor::copy).toList());
    }
}
