package org.aiwae.engine.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.junit.jupiter.api.Test;

class AdamTest {

    @Test
    void firstStepMovesEachParameterByTheLearningRate() {
        // with bias correction the first Adam step is lr * g / (|g| + eps') ~ lr * sign(g)
        Var w = Var.param(Tensor.of(new float[] {1f, -2f}, 2));
        Adam adam = Adam.paper(List.of(w));
        Ops.sum(Ops.square(w)).backward();
        adam.step(0.01f);
        assertEquals(0.99f, w.value().get(0), 1e-5f);
        assertEquals(-1.99f, w.value().get(1), 1e-5f);
    }

    @Test
    void minimisesAQuadratic() {
        Var w = Var.param(Tensor.of(new float[] {3f, -4f, 0.5f}, 3));
        Var target = Var.constant(Tensor.of(new float[] {1f, 2f, -1f}, 3));
        Adam adam = Adam.paper(List.of(w));
        for (int i = 0; i < 3000; i++) {
            adam.zeroGrad();
            Ops.sum(Ops.square(Ops.sub(w, target))).backward();
            adam.step(0.01f);
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(target.value().get(i), w.value().get(i), 1e-2);
        }
    }

    @Test
    void rejectsImpossibleSettings() {
        assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(), 1.0f, 0.999f, 1e-4f));
        assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(), 0.9f, 0.999f, 0f));
    }
}
