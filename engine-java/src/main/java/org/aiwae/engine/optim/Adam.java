package org.aiwae.engine.optim;

import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.Parallel;
import org.aiwae.engine.backend.UnaryOp;

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
    }

    /** The paper's settings: beta1 0.9, beta2 0.999, eps 1e-4. */
    public static Adam paper(List<Var> params) {
        return new Adam(params, 0.9f, 0.999f, 1e-4f);
    }

    /** One ascent-free descent step with learning rate {@code lr}; parameters without a gradient are skipped. */
    public void step(float lr) {
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
            if (!p.value().onHost()) {
                deviceStep(p.value(), g, m[i], v[i], stepSize, epsHat);
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

    /** The same update from the backend's primitives, for parameters on a device (the data stays there). */
    private void deviceStep(Tensor w, Tensor g, Tensor mi, Tensor vi, float stepSize, float epsHat) {
        Backend be = Backends.of("adam", w, g);
        Tensor gr = g.reshape(w.shape());
        mi.copyFrom(be.binary(BinaryOp.ADD, be.binary(BinaryOp.MUL, mi, beta1), be.binary(BinaryOp.MUL, gr, 1 - beta1)));
        vi.copyFrom(be.binary(BinaryOp.ADD, be.binary(BinaryOp.MUL, vi, beta2),
                be.binary(BinaryOp.MUL, be.unary(UnaryOp.SQUARE, gr), 1 - beta2)));
        Tensor denom = be.binary(BinaryOp.ADD, be.unary(UnaryOp.SQRT, vi), epsHat);
        w.copyFrom(be.binary(BinaryOp.SUB, w, be.binary(BinaryOp.MUL, be.binary(BinaryOp.DIV, mi, denom), stepSize)));
    }

    public void zeroGrad() {
        for (Var p : params) {
            p.zeroGrad();
        }
    }

    public List<Var> params() {
        return params;
    }

    public long steps() {
        return steps;
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
    }
}
