package org.aiwae.sampler;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Autograd;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.Posterior;

/**
 * The path from {@code q(z|x)} to {@code p(x, z)} for any {@link LatentVariableModel}, on generic
 * autodiff: K chains per data point, laid out {@code [K, B]}. Gradients are taken with respect to
 * z only; the model's parameters are neither differentiated nor touched.
 */
public final class ModelPath extends QToPPath {
    private final LatentVariableModel model;
    private final Var x;
    private final Posterior q;

    /** {@code q} must hold constants (built under NoGrad), or its parameters would be differentiated too. */
    public ModelPath(LatentVariableModel model, Tensor x, Posterior q, int samples) {
        super(samples, x.dim(0), model.latentDim());
        this.model = model;
        this.x = Var.constant(x);
        this.q = q;
    }

    @Override
    public void evaluate(Tensor z, Tensor log0, Tensor grad0, Tensor log1, Tensor grad1) {
        Tensor z3 = z.reshape(samples, batch, latent);
        Var zq = Var.input(z3, true);
        Autograd.Result rq = Autograd.grad(() -> {
            Var lq = q.logProb(zq);
            log0.copyFrom(lq.value());
            return Ops.sum(lq);
        }, zq);
        grad0.copyFrom(rq.grads()[0]);
        Var zp = Var.input(z3, true);
        Autograd.Result rp = Autograd.grad(() -> {
            Var lp = model.logJoint(x, zp);
            log1.copyFrom(lp.value());
            return Ops.sum(lp);
        }, zp);
        grad1.copyFrom(rp.grads()[0]);
    }
}
