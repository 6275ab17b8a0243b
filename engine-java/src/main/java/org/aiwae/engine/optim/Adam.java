package org.aiwae.engine.optim;

import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.Parallel;

/**
 * Adam (Kingma and Ba) over a fixed list of parameters, with bias correction; the paper uses
 * {@code beta1 = 0.9, beta2 = 0.999, eps = 1e-4}. The moments are plain tensors so a checkpoint
 * can save and restore them.
 */
public final class Adam {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private final List<Var> params;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final Tensor[] m;
    private final Tensor[] v;
    private long steps;
    /** On a device: {@code [t, stepSize, epsHat, lr]} in device memory (the step count lives there), else null. */
    private final Tensor clock;
    private float clockRate = Float.NaN;

    public Adam(List<Var> params, float beta1, float beta2, float eps) {
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps > 0)) {
            throw new IllegalArgumentException("Adam: need 0 <= beta < 1 and eps > 0, got beta1=" + beta1
                    + " beta2=" + beta2 + " eps=" + eps);
        }
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.m = new Tensor[this.params.size()];
        this.v = new Tensor[this.params.size()];
        for (int i = 0; i < m.length; i++) {
            Tensor w = this.params.get(i).value();
            m[i] = w.placement().zeros(w.shape());
            v[i] = w.placement().zeros(w.shape());
        }
        clock = m.length == 0 || m[0].onHost() ? null : m[0].placement().zeros(4);
    }

    /** The paper's settings: beta1 0.9, beta2 0.999, eps 1e-4. */
    public static Adam paper(List<Var> params) {
        return new Adam(params, 0.9f, 0.999f, 1e-4f);
    }

    /** One ascent-free descent step with learning rate {@code lr}; parameters without a gradient are skipped. */
    public void step(float lr) {
        step(lr, new Tensor[0]);
    }

    /**
     * {@link #step(float)}, skipped (the step count too) unless every one of {@code gates} (one-element tensors in
     * the parameters' memory, e.g. the losses of the step that made the gradients) is finite. On a device the
     * test and the update run there, so nothing is read back: the step count, the bias corrections and the
     * learning rate live in device memory (the rate is written when it changes).
     */
    public void step(float lr, Tensor... gates) {
        if (clock != null) {
            deviceStep(lr, gates);
            return;
        }
        for (Tensor g : gates) {
            if (!Float.isFinite(g.item())) {
                return;
            }
        }
        steps++;
        double c1 = 1 - StrictMath.pow(beta1, steps);
        double c2 = 1 - StrictMath.pow(beta2, steps);
        float stepSize = (float) (lr * Math.sqrt(c2) / c1);
        float epsHat = (float) (eps * Math.sqrt(c2));
        for (int i = 0; i < m.length; i++) {
            Var p = params.get(i);
            Tensor g = p.grad();
            if (g == null) {
                continue;
            }
            float[] w = p.value().data(), gd = g.data(), md = m[i].data(), vd = v[i].data();
            int wo = p.value().offset(), go = g.offset();
            // element by element (vector lanes and the scalar tail do the same correctly rounded float
            // operations), so the same bits whatever the split and the vector width
            Parallel.forRange(md.length, 1, 1 << 15, (from, to) -> {
                int j = from;
                for (int end = from + S.loopBound(to - from); j < end; j += S.length()) {
                    FloatVector gj = FloatVector.fromArray(S, gd, go + j);
                    FloatVector mj = FloatVector.fromArray(S, md, j).mul(beta1).add(gj.mul(1 - beta1));
                    FloatVector vj = FloatVector.fromArray(S, vd, j).mul(beta2).add(gj.mul(1 - beta2).mul(gj));
                    mj.intoArray(md, j);
                    vj.intoArray(vd, j);
                    FloatVector.fromArray(S, w, wo + j)
                            .sub(mj.mul(stepSize).div(vj.lanewise(VectorOperators.SQRT).add(epsHat)))
                            .intoArray(w, wo + j);
                }
                for (; j < to; j++) {
                    float gj = gd[go + j];
                    float mj = md[j] = beta1 * md[j] + (1 - beta1) * gj;
                    float vj = vd[j] = beta2 * vd[j] + (1 - beta2) * gj * gj;
                    w[wo + j] -= stepSize * mj / ((float) Math.sqrt(vj) + epsHat);
                }
            });
        }
    }

    /**
     * On a device, writes the learning rate the next steps use into device memory if it changed (a host write);
     * work recorded for replay calls it before recording and before each replay. Nothing on the host.
     */
    public void learningRate(float lr) {
        if (clock != null && Float.floatToIntBits(lr) != Float.floatToIntBits(clockRate)) {
            clock.rows(3, 4).copyFrom(new float[] {lr});
            clockRate = lr;
        }
    }

    /** The update on a device: the clock, then the parameters with a gradient ({@link Backend#adamUpdateAll}), all gated on the device. */
    private void deviceStep(float lr, Tensor[] gates) {
        Backend be = Backends.of(clock);
        learningRate(lr);
        be.adamClock(clock, beta1, beta2, eps, gates);
        List<Tensor> ws = new ArrayList<>(m.length), gs = new ArrayList<>(m.length), ms = new ArrayList<>(m.length), vs = new ArrayList<>(m.length);
        for (int i = 0; i < m.length; i++) {
            Var p = params.get(i);
            if (p.grad() != null) {
                ws.add(p.value());
                gs.add(p.grad());
                ms.add(m[i]);
                vs.add(v[i]);
            }
        }
        if (!ws.isEmpty()) {
            be.adamUpdateAll(ws, gs, ms, vs, beta1, beta2, clock, gates);
        }
    }

    public void zeroGrad() {
        for (Var p : params) {
            p.zeroGrad();
        }
    }

    public List<Var> params() {
        return params;
    }

    /** The number of updates made (a host read on a device). */
    public long steps() {
        return clock == null ? steps : (long) clock.get(0);
    }

    /** First and second moments, in parameter order (live tensors: a checkpoint reads and restores them). */
    public Tensor[] firstMoments() {
        return m;
    }

    public Tensor[] secondMoments() {
        return v;
    }

    /** Restores the step count after the moments were loaded. */
    public void restoreSteps(long steps) {
        this.steps = steps;
        if (clock != null) {
            if (steps > 1L << 24) {
                throw new IllegalArgumentException("Adam on a device counts at most 2^24 steps, got " + steps);
            }
            clock.rows(0, 1).copyFrom(new float[] {steps});
        }
    }
}
