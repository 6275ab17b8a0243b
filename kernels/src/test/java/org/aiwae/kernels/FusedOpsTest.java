package org.aiwae.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.backend.UnaryOp;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.engine.random.RandomStream;

/**
 * The fused forms of HMC's, AIS's, the step-size rule's and Adam's fixed patterns ({@link Backend#mix},
 * {@code scaledDifference}, {@code diagonalGaussian},
 * {@code kickDrift}, {@code metropolis}, {@code selectInto}, {@code reweight}, {@code adaptStepSizes},
 * {@code adamClock}, {@code adamUpdate}): on every device, one launch each, equal to the composition from the
 * primitives that the interface's defaults give (run on the same device through a backend that overrides
 * nothing but the primitives) and to the CPU's, to float rounding; the decisions (accept, divergent, the
 * step-size factor, Adam's gate) exactly.
 */
class FusedOpsTest {
    private static final int N = 37, D = 11;

    @OnEveryDevice
    void hmcPatternsEqualTheirComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Backend composed = new PrimitivesOnly(dev);
        RandomStream rng = new RandomStream(3);
        Tensor p = rng.normal(N, D), g = rng.normal(N, D), z = rng.normal(N, D), g1 = rng.normal(N, D);
        Tensor epsPerChain = rng.uniform(N, 1), epsShared = Tensor.of(new float[] {0.07f}, 1, 1);
        for (Tensor eps : new Tensor[] {epsPerChain, epsShared}) {
            for (float scale : new float[] {0.5f, 1f}) {
                DeviceWork before = dev.work();
                Backend.Leapfrog fused = dev.kickDrift(p.to(dev), eps.to(dev), scale, g.to(dev), z.to(dev));
                assertEquals(1, dev.work().since(before).ops(), "one launch");
                Backend.Leapfrog comp = composed.kickDrift(p.to(dev), eps.to(dev), scale, g.to(dev), z.to(dev));
                Backend.Leapfrog cpu = cpu().kickDrift(p, eps, scale, g, z);
                close(cpu.momentum(), fused.momentum(), comp.momentum());
                close(cpu.position(), fused.position(), comp.position());
                assertEquals(null, dev.kickDrift(p.to(dev), eps.to(dev), scale, g.to(dev), null).position());
            }
        }
        close(cpu().mix(g, 0.3f, g1, 0.7f), dev.mix(g.to(dev), 0.3f, g1.to(dev), 0.7f), composed.mix(g.to(dev), 0.3f, g1.to(dev), 0.7f));
        // a diagonal Gaussian's standardised values and score, [B, Z] broadcast over K chains per image
        Tensor zs = rng.normal(3, 5, 4), mu = rng.normal(5, 4), inv = rng.uniform(5, 4), neg = rng.normal(5, 4);
        for (Tensor b : new Tensor[] {neg, null}) {
            Tensor bd = b == null ? null : b.to(dev);
            DeviceWork before = dev.work();
            Tensor fused = dev.scaledDifference(zs.to(dev), mu.to(dev), inv.to(dev), bd);
            assertEquals(1, dev.work().since(before).ops(), "one launch");
            close(cpu().scaledDifference(zs, mu, inv, b), fused, composed.scaledDifference(zs.to(dev), mu.to(dev), inv.to(dev), bd));
        }
        Tensor constant = rng.normal(5);
        DeviceWork before = dev.work();
        Backend.Density fusedQ = dev.diagonalGaussian(zs.to(dev), mu.to(dev), inv.to(dev), neg.to(dev), constant.to(dev));
        assertEquals(1, dev.work().since(before).ops(), "one launch");
        Backend.Density compQ = composed.diagonalGaussian(zs.to(dev), mu.to(dev), inv.to(dev), neg.to(dev), constant.to(dev));
        Backend.Density cpuQ = cpu().diagonalGaussian(zs, mu, inv, neg, constant);
        close(cpuQ.logDensity(), fusedQ.logDensity(), compQ.logDensity());
        close(cpuQ.gradient(), fusedQ.gradient(), compQ.gradient());
        assertThrows(IllegalArgumentException.class, () -> dev.scaledDifference(zs.to(dev), rng.normal(4, 5).to(dev),
                rng.normal(4, 5).to(dev), null));
        assertThrows(IllegalArgumentException.class, () -> dev.kickDrift(p.to(dev), rng.uniform(N + 1, 1).to(dev), 1f, g.to(dev), null));
    }

    @OnEveryDevice
    void metropolisAndSelectionEqualTheirComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Backend composed = new PrimitivesOnly(dev);
        RandomStream rng = new RandomStream(4);
        Tensor p0 = rng.normal(N, D), p1 = rng.normal(N, D), u = rng.uniform(N);
        Tensor l0 = rng.normal(N), l1 = rng.normal(N);
        float[] big = l1.toArray();
        big[3] = -5000f; // dH above the divergence limit
        big[5] = Float.NaN;
        l1 = Tensor.of(big, N);
        Tensor divCpu = Tensor.full(2f, N), divDev = divCpu.to(dev), divComp = divCpu.to(dev);
        Backend.Metropolis cpu = cpu().metropolis(l0, p0, l1, p1, u, 1000f, divCpu);
        DeviceWork before = dev.work();
        Backend.Metropolis fused = dev.metropolis(l0.to(dev), p0.to(dev), l1.to(dev), p1.to(dev), u.to(dev), 1000f, divDev);
        assertEquals(1, dev.work().since(before).ops(), "one launch");
        Backend.Metropolis comp = composed.metropolis(l0.to(dev), p0.to(dev), l1.to(dev), p1.to(dev), u.to(dev), 1000f, divComp);
        assertArrayEquals(cpu.accepted().toArray(), fused.accepted().toArray());
        assertArrayEquals(cpu.accepted().toArray(), comp.accepted().toArray());
        assertArrayEquals(cpu.divergent().toArray(), fused.divergent().toArray());
        assertArrayEquals(divCpu.toArray(), divDev.toArray());
        assertArrayEquals(divCpu.toArray(), divComp.toArray());
        assertEquals(3f, divDev.get(3));
        assertEquals(3f, divDev.get(5));
        close(cpu.energyChange(), fused.energyChange(), comp.energyChange());

        Tensor into = rng.normal(N, D), a = rng.normal(N, D);
        Tensor expected = cpu().where(cpu.accepted(), a, into);
        Tensor intoDev = into.to(dev);
        dev.selectInto(fused.accepted(), a.to(dev), intoDev);
        assertArrayEquals(expected.toArray(), intoDev.toArray());
    }

    @OnEveryDevice
    void compensatedReweightingEqualsItsComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Backend composed = new PrimitivesOnly(dev);
        RandomStream rng = new RandomStream(5);
        Tensor l0 = rng.normal(N), l1 = rng.normal(N), w = rng.normal(N), c = rng.uniform(N);
        Tensor wc = w.copy(), cc = c.copy();
        cpu().reweight(l0, l1, 0.013f, wc, cc, wc, cc);
        Tensor wd = w.to(dev), cd = c.to(dev);
        dev.reweight(l0.to(dev), l1.to(dev), 0.013f, wd, cd, wd, cd); // in place
        Tensor wk = w.to(dev), ck = c.to(dev);
        composed.reweight(l0.to(dev), l1.to(dev), 0.013f, wk, ck, wk, ck);
        close(wc, wd, wk);
        close(cc, cd, ck);
    }

    @OnEveryDevice
    void stepSizeRuleEqualsTheHostRule(String name) {
        DeviceBackend dev = TestBackends.device(name);
        int groups = 4, per = 5;
        float[] acc = new float[per * groups];
        for (int k = 0; k < per; k++) {
            for (int g = 0; g < groups; g++) {
                acc[k * groups + g] = k < g + 1 ? 1 : 0; // group g: g + 1 of 5 accept
            }
        }
        Tensor accepted = Tensor.of(acc, per * groups);
        Tensor sizesCpu = Tensor.of(new float[] {0.1f, 0.2f, 0.001f, 0.3f}, groups), countCpu = Tensor.zeros(1);
        cpu().adaptStepSizes(accepted, groups, 3, 1.5f, 0.5f, 0.001f, 0.3f, sizesCpu, countCpu);
        Tensor sizesDev = Tensor.of(new float[] {0.1f, 0.2f, 0.001f, 0.3f}, groups).to(dev), countDev = dev.zeros(1);
        DeviceWork before = dev.work();
        dev.adaptStepSizes(accepted.to(dev), groups, 3, 1.5f, 0.5f, 0.001f, 0.3f, sizesDev, countDev);
        assertEquals(1, dev.work().since(before).ops(), "one launch");
        assertArrayEquals(new float[] {0.05f, 0.1f, 0.0015f, 0.3f}, sizesCpu.toArray(), 1e-7f, "groups 1, 2 shrink; 3, 4 grow, clamped");
        assertArrayEquals(sizesCpu.toArray(), sizesDev.toArray());
        assertEquals(10f, countCpu.item());
        assertEquals(10f, countDev.item());
    }

    @OnEveryDevice
    void adamOnTheDeviceEqualsTheComposedUpdateAndIsGatedByTheLosses(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Backend composed = new PrimitivesOnly(dev);
        RandomStream rng = new RandomStream(6);
        Tensor w = rng.normal(7, 9), g = rng.normal(7, 9), m = rng.normal(7, 9), v = rng.uniform(7, 9);
        Tensor clockHost = Tensor.of(new float[] {4, 0, 0, 1e-3f}, 4);
        Tensor ok = Tensor.scalar(1.5f), nan = Tensor.scalar(Float.NaN);
        Tensor[] fused = {w.to(dev), m.to(dev), v.to(dev), clockHost.to(dev)}, comp = {w.to(dev), m.to(dev), v.to(dev), clockHost.to(dev)};
        for (Object[] run : new Object[][] {{dev, fused}, {composed, comp}}) {
            Backend be = (Backend) run[0];
            Tensor[] t = (Tensor[]) run[1];
            be.adamClock(t[3], 0.9f, 0.999f, 1e-4f, ok.to(dev), nan.to(dev)); // closed: nothing moves
            be.adamUpdate(t[0], g.to(dev), t[1], t[2], 0.9f, 0.999f, t[3], nan.to(dev));
            assertArrayEquals(clockHost.toArray(), t[3].toArray());
            assertArrayEquals(w.toArray(), t[0].toArray());
            be.adamClock(t[3], 0.9f, 0.999f, 1e-4f, ok.to(dev), ok.to(dev));
            be.adamUpdate(t[0], g.to(dev), t[1], t[2], 0.9f, 0.999f, t[3], ok.to(dev), ok.to(dev));
        }
        assertEquals(5f, fused[3].get(0));
        double c1 = 1 - StrictMath.pow(0.9f, 5), c2 = 1 - StrictMath.pow(0.999f, 5);
        assertEquals((float) (1e-3f * Math.sqrt(c2) / c1), fused[3].get(1), 1e-9);
        for (int i = 0; i < 4; i++) {
            close(comp[i], fused[i], comp[i]);
        }
    }

    @OnEveryDevice
    void aStreamKeyedByDeviceMemoryDrawsTheStreamWhoseKeyIsThere(String name) {
        DeviceBackend dev = TestBackends.device(name);
        RandomStream a = new RandomStream(11, 12, 5), b = new RandomStream(13, 14, 5);
        Tensor key = dev.zeros(4).copyFrom(a.keyWords());
        RandomStream keyed = b.keyedBy(key); // b's position, a's key: the key in device memory decides
        float[] expected = new RandomStream(11, 12, 5).normal(9, 3).toArray();
        assertArrayEquals(expected, keyed.normal(dev, 9, 3).toArray(), 1e-6f);
        key.copyFrom(b.keyWords());
        assertArrayEquals(new RandomStream(13, 14, 5 + 7).uniform(5).toArray(), keyed.uniform(dev, 5).toArray(), "after 7 blocks");
        assertThrows(IllegalArgumentException.class, () -> a.keyedBy(org.aiwae.engine.Tensor.zeros(4)), "a host key");
    }

    private static Backend cpu() {
        return org.aiwae.engine.backend.Backends.cpu();
    }

    /** {@code a} and {@code b} (on any placement) equal {@code expected} to float rounding. */
    private static void close(Tensor expected, Tensor a, Tensor b) {
        float[] e = expected.toArray(), x = a.toArray(), y = b.toArray();
        for (int i = 0; i < e.length; i++) {
            if (Float.isNaN(e[i])) {
                assertEquals(Float.NaN, x[i], "fused [" + i + "]");
                assertEquals(Float.NaN, y[i], "composed [" + i + "]");
                continue;
            }
            float tol = 1e-5f * (1 + Math.abs(e[i]));
            assertEquals(e[i], x[i], tol, "fused [" + i + "]");
            assertEquals(e[i], y[i], tol, "composed [" + i + "]");
        }
    }

    /** A backend that runs only a device's primitives, so the fused patterns take the interface's composed defaults. */
    private record PrimitivesOnly(DeviceBackend d) implements Backend {
        @Override
        public String name() {
            return d.name();
        }

        @Override
        public Tensor zeros(int... shape) {
            return d.zeros(shape);
        }

        @Override
        public Tensor upload(Tensor host) {
            return d.upload(host);
        }

        @Override
        public Tensor unary(UnaryOp op, Tensor a) {
            return d.unary(op, a);
        }

        @Override
        public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
            return d.binary(op, a, b);
        }

        @Override
        public Tensor binary(BinaryOp op, Tensor a, float c) {
            return d.binary(op, a, c);
        }

        @Override
        public Tensor reduce(ReduceOp op, Tensor a, int axis) {
            return d.reduce(op, a, axis);
        }

        @Override
        public Tensor sumTo(Tensor a, int[] shape) {
            return d.sumTo(a, shape);
        }

        @Override
        public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out, boolean accumulate) {
            d.matmul(a, transA, b, transB, out, accumulate);
        }

        @Override
        public Tensor where(Tensor mask, Tensor a, Tensor b) {
            return d.where(mask, a, b);
        }

        @Override
        public DecoderKernel decoder(TanhMlpDecoder decoder, int maxRows) {
            return d.decoder(decoder, maxRows);
        }
    }
}
