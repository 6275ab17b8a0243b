package org.aiwae.sampler;

import java.util.List;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.Backends;

/**
 * The geometric path between two densities at inverse temperature beta:
 * {@code log f_beta = (1 - beta) log f0 + beta log f1}. In AIS and AIWAE f0 is {@code q(z|x)} and f1
 * is {@code p(x, z)}. A state keeps both terms ({@code logDensities = [log f0, log f1]}), so moving to
 * the next temperature ({@link #at(double)}) costs no evaluation.
 */
public record Tempered(LogDensity base, LogDensity target, double beta) implements Target {

    public Tempered {
        if (!(beta >= 0 && beta <= 1)) {
            throw new IllegalArgumentException("inverse temperature must be in [0, 1], got " + beta);
        }
    }

    /** The same path at another inverse temperature. */
    public Tempered at(double otherBeta) {
        return new Tempered(base, target, otherBeta);
    }

    @Override
    public HmcState at(Tensor position) {
        LogDensity.Value v0 = base.at(position), v1 = target.at(position);
        return new HmcState(position, List.of(v0.logDensity(), v1.logDensity()), List.of(v0.gradient(), v1.gradient()));
    }

    @Override
    public Tensor logDensity(HmcState state) {
        return mix(state.logDensities());
    }

    @Override
    public Tensor gradient(HmcState state) {
        return mix(state.gradients());
    }

    @Override
    public Tensor gradientAt(Tensor position) {
        return mix(base.gradient(position), target.gradient(position));
    }

    /** One launch on a device: the mix of the state's two gradients inside the kick ({@link Backend#temperedKickDrift}). */
    @Override
    public Backend.Leapfrog kick(Tensor p, Tensor eps, float scale, HmcState state, Tensor z) {
        float b1 = (float) beta, b0 = 1 - b1;
        List<Tensor> g = state.gradients();
        return Backends.of("tempered", p, eps).temperedKickDrift(p, eps, scale, g.get(0), null, b0, g.get(1), b1, z);
    }

    /**
     * One launch beside the target's gradient on a device: the mix inside the kick and, where the base is a diagonal Gaussian
     * ({@link LogDensity#gaussianScore}), its score too ({@link Backend#temperedKickDrift}).
     */
    @Override
    public Backend.Leapfrog kickAt(Tensor p, Tensor eps, float scale, Tensor z) {
        float b1 = (float) beta, b0 = 1 - b1;
        Backend be = Backends.of("tempered", p, eps);
        Backend.GaussianScore q = base.gaussianScore();
        Tensor g0 = q == null ? base.gradient(z) : null;
        return be.temperedKickDrift(p, eps, scale, g0, q, b0, target.gradient(z), b1, z);
    }

    /** One launch on a device: the mixes of the two states' log-densities inside the test ({@link Backend#temperedMetropolis}). */
    @Override
    public Backend.Metropolis metropolis(HmcState s0, Tensor p0, HmcState s1, Tensor p1, Tensor u, float limit, Tensor divergentInto) {
        float b1 = (float) beta, b0 = 1 - b1;
        List<Tensor> l0 = s0.logDensities(), l1 = s1.logDensities();
        return Backends.of("tempered", p0, p1).temperedMetropolis(l0.get(0), l0.get(1), p0, l1.get(0), l1.get(1), p1, b0, b1, u, limit,
                divergentInto);
    }

    private Tensor mix(List<Tensor> terms) {
        return mix(terms.get(0), terms.get(1));
    }

    /** {@code (1 - beta) t0 + beta t1}, computed as the float {@code b0 t0 + b1 t1} on every backend. */
    private Tensor mix(Tensor t0, Tensor t1) {
        float b1 = (float) beta, b0 = 1 - b1;
        return Backends.of("tempered", t0, t1).mix(t0, b0, t1, b1);
    }

    /** {@code log f1 - log f0} of each chain: what AIS adds to the log weights per unit of beta. */
    public static Tensor logRatio(HmcState state) {
        Tensor l0 = state.logDensities().get(0), l1 = state.logDensities().get(1);
        return Backends.of("tempered", l0, l1).binary(BinaryOp.SUB, l1, l0);
    }
}
