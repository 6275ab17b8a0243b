package org.aiwae.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.junit.jupiter.api.Test;

class TensorTest {

    @Test
    void reshapeAndRowsAreViewsOfTheSameStorage() {
        Tensor t = Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 3, 4);
        Tensor r = t.reshape(2, -1);
        assertArrayEquals(new int[] {2, 6}, r.shape());
        Tensor rows = t.rows(1, 3);
        assertArrayEquals(new float[] {4, 5, 6, 7, 8, 9, 10, 11}, rows.toArray());
        rows.set(-1f, 0, 0);
        assertEquals(-1f, t.get(1, 0));
        assertArrayEquals(new float[] {8, 9, 10, 11}, t.row(2).toArray());
        assertEquals(8f, t.row(2).reshape(2, 2).get(0, 0));
    }

    @Test
    void copiesAreIndependent() {
        Tensor t = Tensor.full(2f, 2, 2);
        Tensor c = t.copy();
        c.fill(0f);
        assertEquals(2f, t.get(1, 1));
        assertEquals(4, Tensor.zeros(4).copyFrom(new float[] {1, 2, 3, 4}).size());
    }

    @Test
    void badShapesFailWithTheShapesInTheMessage() {
        Tensor t = Tensor.zeros(3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.reshape(5, -1));
        assertTrue(e.getMessage().contains("[3, 4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.rows(2, 4));
        assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(new float[5], 2, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> t.get(3, 0));
        IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
                () -> Ops.add(Var.constant(Tensor.zeros(2, 3)), Var.constant(Tensor.zeros(4))));
        assertTrue(b.getMessage().startsWith("add:") && b.getMessage().contains("[2, 3]") && b.getMessage().contains("[4]"),
                b.getMessage());
        IllegalArgumentException l = assertThrows(IllegalArgumentException.class,
                () -> Ops.linear(Var.constant(Tensor.zeros(2, 3)), Var.constant(Tensor.zeros(4, 5)), null));
        assertTrue(l.getMessage().startsWith("linear:"), l.getMessage());
    }
}
