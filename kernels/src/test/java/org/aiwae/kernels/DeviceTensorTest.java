package org.aiwae.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.random.RandomStream;

/**
 * Tensors that live on a device: their storage belongs to one backend, ops run where the operands
 * are, mixing two placements is an error naming both, and the host sees a device tensor's values
 * only through the explicit reads ({@code to}, {@code toArray}, {@code item}, {@code get}).
 */
class DeviceTensorTest {
    @OnEveryDevice
    void aTensorMovesOnlyWhenAskedAndKeepsItsValues(String api) {
        DeviceBackend dev = TestBackends.device(api);
        Tensor host = new RandomStream(1).normal(3, 5);
        Tensor d = host.to(dev);
        assertFalse(d.onHost());
        assertSame(dev, d.placement());
        assertSame(d, d.to(dev), "already there: no copy");
        assertSame(host, host.to(Placement.HOST));
        assertArrayEquals(host.toArray(), d.toArray());
        assertArrayEquals(host.toArray(), d.to(Backends.cpu()).toArray());
        // views share the device buffer
        assertArrayEquals(host.rows(1, 3).toArray(), d.rows(1, 3).toArray());
        assertEquals(host.get(2, 4), d.row(2).get(4));
        assertEquals(host.get(1, 1), d.reshape(15).rows(6, 7).item());
        d.rows(1, 2).fill(7f);
        assertEquals(7f, d.get(1, 3));
        assertEquals(host.get(0, 3), d.get(0, 3));
        Tensor copy = d.copy();
        d.fill(0f);
        assertEquals(7f, copy.get(1, 0), "a copy has its own storage");
        IllegalStateException noArray = assertThrows(IllegalStateException.class, d::data);
        assertTrue(noArray.getMessage().contains(api), noArray.getMessage());
    }

    @OnEveryDevice
    void opsRunWhereTheOperandsLiveAndMixingIsAnError(String api) {
        DeviceBackend dev = TestBackends.device(api);
        Tensor a = new RandomStream(2).normal(4, 3), b = new RandomStream(3).normal(3);
        Var sum = Ops.add(Var.constant(a.to(dev)), Var.constant(b.to(dev)));
        assertSame(dev, sum.value().placement(), "the result stays on the device");
        Var mixed = Var.constant(b);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.add(Var.constant(a.to(dev)), mixed));
        assertTrue(e.getMessage().contains(api) && e.getMessage().contains("cpu"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ops.matmul(Var.constant(a), false, Var.constant(a.to(dev)), true));
        assertThrows(IllegalArgumentException.class, () -> dev.matmul(a, false, a, true, Tensor.zeros(4, 4), false));
    }

    @OnEveryDevice
    void aScopeChoosesWhereCreatedTensorsLive(String api) {
        DeviceBackend dev = TestBackends.device(api);
        assertSame(Backends.cpu(), Backends.current());
        try (Backends.Scope outer = Backends.using(dev)) {
            Backend b = Backends.current();
            assertSame(dev, b);
            assertSame(dev, b.zeros(2, 2).placement());
            assertArrayEquals(new float[] {3f, 3f}, b.full(3f, 2).toArray());
            try (Backends.Scope inner = Backends.using(Backends.cpu())) {
                assertSame(Backends.cpu(), Backends.current());
            }
            assertSame(dev, Backends.current());
        }
        assertSame(Backends.cpu(), Backends.current(), "a closed scope restores the CPU");
    }

    @OnEveryDevice
    void aMatmulOnDeviceTensorsCopiesNothingAndReusesPooledBuffers(String api) throws InterruptedException {
        DeviceBackend dev = TestBackends.device(api);
        RandomStream rng = new RandomStream(4);
        Var x = Var.constant(rng.normal(64, 50).to(dev)), w = Var.constant(rng.normal(200, 50).to(dev));
        Ops.matmul(x, false, w, true).value().get(0, 0); // warm the pool's size classes
        System.gc();
        DeviceWork before = dev.work();
        for (int i = 0; i < 20; i++) {
            Ops.matmul(x, false, w, true);
        }
        Tensor y = Ops.matmul(x, false, w, true).value();
        DeviceWork during = dev.work().since(before);
        assertEquals(0, during.hostWrites() + during.hostReads(), "products of device tensors: " + during);
        assertEquals(21, during.launches(), "one sgemm launch per product: " + during);
        float[] expected = new float[64 * 200];
        Backends.cpu().matmul(x.value().to(Placement.HOST), false, w.value().to(Placement.HOST), true,
                Tensor.wrap(expected, 64, 200), false);
        float[] got = y.toArray();
        for (int i = 0; i < got.length; i++) {
            assertEquals(expected[i], got[i], 1e-4 * (1 + Math.abs(expected[i])) * Math.sqrt(50), "y[" + i + "]");
        }
        long allocated = dev.pool().deviceAllocations();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 50; i++) {
                Ops.matmul(x, false, w, true);
            }
            System.gc(); // the results are unreachable: their buffers go back to the pool
            Thread.sleep(100);
        }
        Ops.matmul(x, false, w, true).value().get(0, 0);
        assertTrue(dev.pool().deviceAllocations() - allocated < 60,
                "150 products of one shape should reuse buffers: " + dev.pool());
    }

    @OnEveryDevice
    void aReclaimScopeHandsItsTemporariesBackAndForbidsTheirUse(String api) {
        DeviceBackend dev = TestBackends.device(api);
        Tensor kept = dev.zeros(8, 8);
        Tensor[] escaped = new Tensor[1];
        for (int round = 0; round < 3; round++) {
            long before = dev.pool().deviceAllocations();
            try (org.aiwae.engine.backend.Backend.Reclaim scope = dev.reclaim()) {
                Tensor t = dev.full(2f, 8, 8);
                escaped[0] = dev.binary(org.aiwae.engine.backend.BinaryOp.MUL, t, 3f);
                kept.copyFrom(escaped[0]);
            }
            if (round > 0) {
                assertEquals(before, dev.pool().deviceAllocations(), "round " + round + " reuses the buffers of the last");
            }
        }
        assertEquals(6f, kept.get(7, 7), "what was copied into an older tensor survives the scope");
        IllegalStateException e = assertThrows(IllegalStateException.class, escaped[0]::toArray);
        assertTrue(e.getMessage().contains("reclaim"), e.getMessage());
    }

    /**
     * One kernel launched again and again with some arguments changed and others not (a device may keep the
     * arguments set on its kernel object and set only the changed ones), with a recording in between (which
     * sets arguments on kernel objects of its own): every launch computes with its own arguments.
     */
    @OnEveryDevice
    void repeatedLaunchesOfAKernelEachUseTheirOwnArguments(String api) {
        DeviceBackend dev = TestBackends.device(api);
        float[] av = {1, 2, 3, 4, 5, 6}, bv = {-1, 0.5f, 8, -3, 2, 7};
        Tensor a = Tensor.of(av, 6).to(dev), b = Tensor.of(bv, 6).to(dev);
        // binary_scalar(n, op, x, xoff, c, y): each call changes one thing or nothing
        assertArrayEquals(new float[] {3, 4, 5, 6, 7, 8}, dev.binary(org.aiwae.engine.backend.BinaryOp.ADD, a, 2f).toArray());
        assertArrayEquals(new float[] {3, 4, 5, 6, 7, 8}, dev.binary(org.aiwae.engine.backend.BinaryOp.ADD, a, 2f).toArray());
        assertArrayEquals(new float[] {1, 2.5f, 10, -1, 4, 9}, dev.binary(org.aiwae.engine.backend.BinaryOp.ADD, b, 2f).toArray());
        assertArrayEquals(new float[] {-2, 1, 16, -6, 4, 14}, dev.binary(org.aiwae.engine.backend.BinaryOp.MUL, b, 2f).toArray());
        assertArrayEquals(new float[] {-3, 1.5f, 24, -9, 6, 21}, dev.binary(org.aiwae.engine.backend.BinaryOp.MUL, b, 3f).toArray());
        assertArrayEquals(new float[] {9, 12}, dev.binary(org.aiwae.engine.backend.BinaryOp.MUL, a.rows(2, 4), 3f).toArray());
        try (DeviceGraph<Tensor> g = dev.record(() -> dev.binary(org.aiwae.engine.backend.BinaryOp.ADD, b, 10f))) {
            assertArrayEquals(new float[] {3, 6, 9, 12, 15, 18}, dev.binary(org.aiwae.engine.backend.BinaryOp.MUL, a, 3f).toArray());
            g.replay();
            assertArrayEquals(new float[] {9, 10.5f, 18, 7, 12, 17}, g.result().toArray());
        }
        assertArrayEquals(new float[] {3, 6, 9, 12, 15, 18}, dev.binary(org.aiwae.engine.backend.BinaryOp.MUL, a, 3f).toArray());
        Tensor c = Tensor.of(new float[] {1, 1, 1, 1, 1, 1}, 6).to(dev); // possibly a buffer freed and made again
        assertArrayEquals(new float[] {3, 3, 3, 3, 3, 3}, dev.binary(org.aiwae.engine.backend.BinaryOp.MUL, c, 3f).toArray());
    }
}
