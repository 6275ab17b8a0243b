package org.aiwae.engine.autodiff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.aiwae.engine.Tensor;
import org.junit.jupiter.api.Test;

class AutogradTest {

    @Test
    void gradientsFlowOnlyToTheChosenLeaves() {
        Var w = Var.param(Tensor.of(new float[] {2f, -1f}, 2));
        Var z = Var.input(Tensor.of(new float[] {0.5f, 3f}, 2), true);
        Autograd.Result r = Autograd.grad(() -> Ops.sum(Ops.mul(w, Ops.square(z))), z);
        assertArrayEquals(new float[] {2f * 2 * 0.5f, -1f * 2 * 3f}, r.grads()[0].toArray(), 1e-6f);
        assertNull(w.grad(), "the parameter is untouched");
        assertNull(z.grad(), "the input's own gradient is left as it was");
    }

    @Test
    void backwardIntoASubsetOfParameters() {
        Var a = Var.param(Tensor.of(new float[] {1f}, 1));
        Var b = Var.param(Tensor.of(new float[] {4f}, 1));
        Var loss = Autograd.backward(List.of(b), () -> Ops.sum(Ops.mul(a, b)));
        assertEquals(4f, loss.value().item());
        assertNull(a.grad());
        assertEquals(1f, b.grad().item());
        Ops.sum(Ops.mul(a, b)).backward(); // outside the scope both receive gradients again
        assertEquals(4f, a.grad().item());
        assertEquals(2f, b.grad().item());
    }
}
