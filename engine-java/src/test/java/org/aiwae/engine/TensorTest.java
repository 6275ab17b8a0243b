package org.aiwae.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.CpuBackend;
import org.aiwae.engine.backend.ReduceOp;
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
    void aShapeAroundAnAxisIsOuterLengthInner() {
        assertEquals(new Shapes.Block(1, 2, 3, 4), Shapes.block("op", new int[] {2, 3, 4}, 1));
        assertEquals(new Shapes.Block(2, 6, 4, 1), Shapes.block("op", new int[] {2, 3, 4}, -1));
        assertEquals(new Shapes.Block(0, 1, 5, 1), Shapes.block("op", new int[] {5}, 0));
        assertEquals(new Shapes.Block(1, 0, 2, 0), Shapes.block("op", new int[] {3, 2, 0}, 1), "no elements: no outer rows");
        assertEquals(new Shapes.Block(1, 0, 0, 4), Shapes.block("op", new int[] {3, 0, 4}, 1));
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> Shapes.reduction("reduce SUM", new int[] {3, 0, 4}, 1));
        assertEquals("reduce SUM: empty axis 1 of shape [3, 0, 4]", empty.getMessage());
        assertEquals("reduce MAX: empty axis 1 of shape [3, 0, 4]", assertThrows(IllegalArgumentException.class,
                () -> CpuBackend.INSTANCE.reduce(ReduceOp.MAX, Tensor.zeros(3, 0, 4), 1)).getMessage(), "the backend names the op");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Shapes.block("expand", new int[] {2, 3}, 2)).getMessage()
                .startsWith("expand: axis 2 out of range"));
    }

    @Test
    void theHostIsOnePlacementThatTheCpuBackendComputesOn() {
        Tensor t = Tensor.of(new float[] {1, 2, 3}, 3);
        assertSame(Placement.HOST, t.placement());
        assertSame(t, t.to(Placement.HOST));
        assertSame(t, t.to(Backends.cpu()), "the CPU backend's memory is the host's");
        assertSame(t, Backends.cpu().upload(t));
        assertSame(t, Placement.HOST.upload(t));
        assertTrue(Backends.cpu().isHost() && Placement.HOST.isHost());
        assertEquals("cpu", Backends.cpu().name());
        assertEquals(Placement.HOST.name(), Backends.cpu().name());
        assertSame(Backends.cpu(), Backends.of(t.placement()));
        assertArrayEquals(new float[6], Backends.cpu().zeros(2, 3).toArray());
        assertTrue(Placement.HOST.empty(2).onHost());
        IllegalStateException noDevice = assertThrows(IllegalStateException.class, t::deviceStorage);
        assertTrue(noDevice.getMessage().contains("host memory"));
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
