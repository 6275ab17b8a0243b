package org.aiwae.kernels;

import java.util.ArrayList;
import java.util.List;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.CpuBackend;

/**
 * The fused forms of a {@link DeviceBackend} for the sampler's and the optimizer's steps (one launch each): the
 * mix of two tensors, the scaled difference and the diagonal Gaussian's log density and gradient (the AIS target), the
 * HMC kick and drift and the Metropolis test (plain or tempered), the masked select into
 * the chains' state, the AIS reweighting, the step-size adaptation, and Adam's clock and update. The tempered launches
 * take their per-step scalars from the temperature clock bound on the calling thread ({@link DeviceBackend#clocked}).
 */
abstract sealed class FusedStepForms extends FusedModelForms permits DeviceBackend {
    /** The calling thread's recording, clock binding and reclaim scopes on this backend. */
    abstract ThreadScopes scopes();

    /** {@link ThreadScopes#clock}: the bound clock's buffer after checking {@code value}, or null when none is bound. */
    private Device.Buffer clock(String what, int k, float value) {
        return scopes().clock(what, k, value);
    }

    @Override
    public Tensor mix(Tensor a, float ca, Tensor b, float cb) {
        requireSameShape("mix", a, b);
        Tensor y = empty(a.shape());
        kernels().mix(a.size(), buffer(a), a.offset(), ca, buffer(b), b.offset(), cb, buffer(y));
        return y;
    }

    @Override
    public Tensor scaledDifference(Tensor z, Tensor mu, Tensor a, Tensor b) {
        int inner = mu.size();
        int[] zs = z.shape(), ms = mu.shape();
        if (!(a.sameShape(mu) && (b == null || b.sameShape(mu)) && inner > 0 && z.size() % inner == 0 && Shapes.isSuffix(ms, zs))) {
            throw new IllegalArgumentException("scaledDifference: " + Shapes.str(ms) + ", " + Shapes.str(a.shape())
                    + (b == null ? "" : ", " + Shapes.str(b.shape())) + " must be one shape that ends " + Shapes.str(zs));
        }
        Tensor y = empty(zs);
        kernels().scaledDifference(z.size(), inner, buffer(z), z.offset(), buffer(mu), mu.offset(), buffer(a), a.offset(),
                b == null ? null : buffer(b), b == null ? 0 : b.offset(), buffer(y));
        return y;
    }

    @Override
    public Density diagonalGaussian(Tensor z, Tensor mu, Tensor a, Tensor s, Tensor constant) {
        if (z.rank() != 3 || mu.rank() != 2 || z.dim(1) != mu.dim(0) || z.dim(2) != mu.dim(1) || !a.sameShape(mu) || !s.sameShape(mu)
                || constant.size() != mu.dim(0) || mu.offset() + a.offset() + s.offset() + constant.offset() != 0) {
            throw new IllegalArgumentException("diagonalGaussian: chains " + Shapes.str(z.shape()) + " against parameters "
                    + Shapes.str(mu.shape()) + ", " + Shapes.str(a.shape()) + ", " + Shapes.str(s.shape()) + " and constants "
                    + Shapes.str(constant.shape()) + " (from offset 0); they must be [K, B, Z], [B, Z] and [B]");
        }
        int k = z.dim(0), b = z.dim(1), d = z.dim(2);
        Tensor log = empty(k, b), grad = empty(z.shape());
        kernels().diagonalGaussian(k * b, d, b, buffer(z), z.offset(), buffer(mu), buffer(a), buffer(s), buffer(constant), buffer(log),
                buffer(grad));
        return new Density(log, grad);
    }

    @Override
    public Leapfrog kickDrift(Tensor p, Tensor eps, float scale, Tensor g, Tensor z) {
        requireSameShape("kickDrift", p, g);
        return kick(p, eps, scale, g, null, 1f, null, 0f, z);
    }

    @Override
    public Leapfrog temperedKickDrift(Tensor p, Tensor eps, float scale, Tensor g0, GaussianScore q0, float b0, Tensor g1, float b1,
                                      Tensor z) {
        requireSameShape("temperedKickDrift", p, g1);
        if (g0 != null) {
            requireSameShape("temperedKickDrift", p, g0);
        } else {
            Tensor mu = q0.mu();
            if (z == null || mu.rank() != 2 || !q0.a().sameShape(mu) || !q0.s().sameShape(mu) || p.rank() != 2 || p.dim(1) != mu.dim(1)
                    || p.dim(0) % mu.dim(0) != 0) {
                throw new IllegalArgumentException("temperedKickDrift: a Gaussian score of shape " + Shapes.str(mu.shape()) + " for chains "
                        + Shapes.str(p.shape()) + (z == null ? " with no position" : "") + "; it must be [B, Z] for chains [K B, Z]");
            }
        }
        return kick(p, eps, scale, g0, q0, b0, g1, b1, z);
    }

    /** One hmc_kick_drift launch: gradient g0 or the score q0, mixed with g1 when g1 is not null. */
    private Leapfrog kick(Tensor p, Tensor eps, float scale, Tensor g0, GaussianScore q0, float b0, Tensor g1, float b1, Tensor z) {
        int d = p.dim(p.rank() - 1), chains = p.size() / Math.max(d, 1);
        boolean perChain = perChain("kickDrift", eps, chains);
        Tensor momentum = empty(p.shape());
        Tensor position = null;
        if (z != null) {
            requireSameShape("kickDrift", p, z);
            position = empty(z.shape());
        }
        Kernels.Score score = q0 == null ? null : new Kernels.Score(q0.mu().size(), buffer(q0.mu()), q0.mu().offset(), buffer(q0.a()),
                q0.a().offset(), buffer(q0.s()), q0.s().offset());
        Kernels.Tempered tempered = g1 == null ? null
                : new Kernels.Tempered(b0, buffer(g1), g1.offset(), b1, clocked(clock("the kick's b0", 0, b0), clock("the kick's b1", 1, b1)));
        kernels().hmcKickDrift(p.size(), d, buffer(eps), eps.offset(), perChain, scale, buffer(p), p.offset(), g0 == null ? null : buffer(g0),
                g0 == null ? 0 : g0.offset(), score, tempered, buffer(momentum), z == null ? null : buffer(z), z == null ? 0 : z.offset(),
                position == null ? null : buffer(position), z != null);
        return new Leapfrog(momentum, position);
    }

    @Override
    public Metropolis metropolis(Tensor logf0, Tensor p0, Tensor logf1, Tensor p1, Tensor u, float limit, Tensor divergentInto) {
        return metropolisTest(logf0, null, p0, logf1, null, p1, 1f, 0f, u, limit, divergentInto);
    }

    @Override
    public Metropolis temperedMetropolis(Tensor l00, Tensor l01, Tensor p0, Tensor l10, Tensor l11, Tensor p1, float b0, float b1,
                                         Tensor u, float limit, Tensor divergentInto) {
        return metropolisTest(l00, l01, p0, l10, l11, p1, b0, b1, u, limit, divergentInto);
    }

    /** One hmc_metropolis launch: on logf0 and logf1, or the tempered mixes with logg0 and logg1 when those are not null. */
    private Metropolis metropolisTest(Tensor logf0, Tensor logg0, Tensor p0, Tensor logf1, Tensor logg1, Tensor p1, float b0, float b1,
                                      Tensor u, float limit, Tensor divergentInto) {
        requireSameShape("metropolis", p0, p1);
        int n = p0.dim(0), d = p0.size() / Math.max(n, 1);
        for (Tensor t : new Tensor[] {logf0, logf1, u, logg0, logg1}) {
            if (t != null && t.size() != n) {
                throw new IllegalArgumentException("metropolis: " + n + " chains but a per-chain operand of shape " + Shapes.str(t.shape()));
            }
        }
        if (divergentInto != null && divergentInto.size() != n) {
            throw new IllegalArgumentException("metropolis: " + n + " chains but divergences of shape " + Shapes.str(divergentInto.shape()));
        }
        Tensor accepted = empty(n), divergent = empty(n), energyChange = empty(n);
        Device.Buffer clock = logg0 == null ? null
                : clocked(clock("the Metropolis test's b0", 0, b0), clock("the Metropolis test's b1", 1, b1));
        kernels().hmcMetropolis(n, d, buffer(p0), p0.offset(), buffer(logf0), logf0.offset(), buffer(p1), p1.offset(), buffer(logf1),
                logf1.offset(), logg0 == null ? null : buffer(logg0), logg0 == null ? 0 : logg0.offset(), logg1 == null ? null : buffer(logg1),
                logg1 == null ? 0 : logg1.offset(), b0, b1, buffer(u), u.offset(), limit, buffer(accepted), buffer(divergent),
                buffer(energyChange), divergentInto == null ? null : at(divergentInto), clock);
        return new Metropolis(accepted, divergent, energyChange);
    }

    @Override
    public void selectInto(Tensor mask, Tensor a, Tensor into) {
        selectAllInto(mask, List.of(a), List.of(into));
    }

    /** {@link Kernels#SELECT_SLOTS} tensors per launch. */
    @Override
    public void selectAllInto(Tensor mask, List<Tensor> a, List<Tensor> into) {
        if (a.size() != into.size()) {
            throw new IllegalArgumentException("selectAllInto: " + a.size() + " tensors into " + into.size());
        }
        int rows = mask.size();
        for (int i = 0; i < a.size(); i++) {
            CpuBackend.whereInner(mask, a.get(i), into.get(i)); // the mask leads each tensor's shape, as where has it
        }
        if (rows == 0) {
            return;
        }
        List<Kernels.Selected> slots = new ArrayList<>(Kernels.SELECT_SLOTS);
        for (int i = 0; i < a.size(); i++) {
            Tensor ai = a.get(i), yi = into.get(i);
            slots.add(new Kernels.Selected(ai.size() / rows, buffer(ai), ai.offset(), buffer(yi), yi.offset()));
            if (slots.size() == Kernels.SELECT_SLOTS || i == a.size() - 1) {
                kernels().selectRowsInto(rows, buffer(mask), mask.offset(), slots);
                slots.clear();
            }
        }
    }

    @Override
    public void reweight(Tensor l0, Tensor l1, float dbeta, Tensor w, Tensor c, Tensor wInto, Tensor cInto) {
        int n = w.size();
        for (Tensor t : new Tensor[] {l0, l1, c, wInto, cInto}) {
            if (t.size() != n) {
                throw new IllegalArgumentException("reweight: " + n + " chains but an operand of shape " + Shapes.str(t.shape()));
            }
        }
        kernels().aisReweight(n, buffer(l0), l0.offset(), buffer(l1), l1.offset(), dbeta, buffer(w), w.offset(), buffer(c), c.offset(),
                at(wInto), at(cInto), clock("the reweighting's dbeta", 2, dbeta));
    }

    @Override
    public void adaptStepSizes(Tensor accepted, int groups, int threshold, float up, float down, float lo, float hi, Tensor sizes,
                               Tensor countInto) {
        if (groups < 1 || accepted.size() % groups != 0 || sizes.size() != groups || countInto.size() != 1) {
            throw new IllegalArgumentException("adaptStepSizes: " + accepted.size() + " chains in " + groups + " groups with "
                    + sizes.size() + " sizes");
        }
        ThreadScopes.Clocked c = scopes().clocked();
        int step = c == null ? 0 : c.step();
        if (countInto.offset() < step) {
            throw new IllegalStateException("adaptStepSizes: a count at offset " + countInto.offset() + " under a temperature clock at step " + step
                    + ": the counts of a clocked run are one per step");
        }
        kernels().adaptStepSizes(groups, accepted.size() / groups, buffer(accepted), accepted.offset(), threshold, up, down, lo, hi,
                buffer(sizes), sizes.offset(), buffer(countInto), countInto.offset() - step, c == null ? null : c.clock().buffer());
    }

    @Override
    public void adamClock(Tensor clock, float beta1, float beta2, float eps, Tensor... gates) {
        if (clock.size() != 4) {
            throw new IllegalArgumentException("adamClock: the clock holds [t, stepSize, epsHat, lr], got shape " + Shapes.str(clock.shape()));
        }
        kernels().adamClock(at(clock), beta1, beta2, eps, gate(gates, 0), gate(gates, 1));
    }

    @Override
    public void adamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, float beta1, float beta2, Tensor clock, Tensor... gates) {
        adamUpdateAll(List.of(w), List.of(g), List.of(m), List.of(v), beta1, beta2, clock, gates);
    }

    /** {@link Kernels#ADAM_SLOTS} parameter tensors per launch. */
    @Override
    public void adamUpdateAll(List<Tensor> w, List<Tensor> g, List<Tensor> m, List<Tensor> v, float beta1, float beta2, Tensor clock,
                              Tensor... gates) {
        if (g.size() != w.size() || m.size() != w.size() || v.size() != w.size()) {
            throw new IllegalArgumentException("adamUpdateAll: " + w.size() + " parameter tensors with " + g.size() + " gradients and "
                    + m.size() + ", " + v.size() + " moments");
        }
        List<Kernels.AdamSlot> slots = new ArrayList<>(Kernels.ADAM_SLOTS);
        for (int i = 0; i < w.size(); i++) {
            Tensor wi = w.get(i), gi = g.get(i), mi = m.get(i), vi = v.get(i);
            if (gi.size() != wi.size() || mi.size() != wi.size() || vi.size() != wi.size()) {
                throw new IllegalArgumentException("adamUpdate: parameters of shape " + Shapes.str(wi.shape()) + " with a gradient of "
                        + Shapes.str(gi.shape()) + " and moments of " + Shapes.str(mi.shape()) + ", " + Shapes.str(vi.shape()));
            }
            slots.add(new Kernels.AdamSlot(wi.size(), buffer(wi), wi.offset(), buffer(gi), gi.offset(), at(mi), at(vi)));
            if (slots.size() == Kernels.ADAM_SLOTS || i == w.size() - 1) {
                kernels().adamUpdate(slots, beta1, beta2, at(clock), gate(gates, 0), gate(gates, 1));
                slots.clear();
            }
        }
    }

    /** Gate {@code i} of at most two one-element tensors at offset 0, or null. */
    private Device.Buffer gate(Tensor[] gates, int i) {
        if (gates.length > 2) {
            throw new IllegalArgumentException("Adam takes at most two gates, got " + gates.length);
        }
        return i < gates.length ? at(gates[i]) : null;
    }

    /** The clock both checks gave (the same buffer, or both null). */
    private static Device.Buffer clocked(Device.Buffer first, Device.Buffer second) {
        return first == null ? second : first;
    }

    private static void requireSameShape(String op, Tensor a, Tensor b) {
        if (!a.sameShape(b)) {
            throw new IllegalArgumentException(op + ": shapes " + Shapes.str(a.shape()) + " and " + Shapes.str(b.shape()) + " differ");
        }
    }

    /** Whether step sizes {@code eps} hold one value per chain ({@code [N, 1]}) rather than one for all ({@code [1, 1]}). */
    private static boolean perChain(String op, Tensor eps, int chains) {
        if (eps.size() == chains && chains != 1) {
            return true;
        }
        if (eps.size() == 1) {
            return false;
        }
        throw new IllegalArgumentException(op + ": step sizes of shape " + Shapes.str(eps.shape()) + " for " + chains
                + " chains; they must be [" + chains + ", 1] or [1, 1]");
    }
}
