package org.aiwae.kernels;

import static org.aiwae.kernels.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.BiFunction;
import java.util.function.Function;
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
 * {@code adamClock}, {@code adamUpdate}, {@code adamUpdateAll}, {@code dense}, {@code denseBackTanh}, {@code temperedKickDrift}, {@code temperedMetropolis}, {@code selectAllInto}, {@code bernoulliLogLikelihood}, {@code bernoulliScore},
 * {@code standardNormalLogDensity}, {@code logSumExp}, {@code logSumExpGrad},
 * {@code gaussianKl}, {@code gaussianKlGrad}, {@code gaussianTerms},
 * {@code gaussianLogDensity}, {@code gaussianLogGrad}, {@code expand},
 * {@code reparameterize}, {@code reparameterizeGrad},
 * {@code philoxNormalsThenUniforms}, {@code scaledSum}, {@code scaledSumGrad}): on every device, one launch each, equal to the composition from the
 * primitives that the interface's defaults give (run on the same device through a backend that overrides
 * nothing but the primitives) and to the CPU's, to float rounding; the decisions (accept, divergent, the
 * step-size factor, Adam's gate) exactly.
 */
class FusedOpsTest {
    private static final int N = 37, D = 11;
    /** Elementwise results: float rounding. */
    private static final double TOL = 1e-5;
    /** Sums of many terms of both signs: float rounding of the terms' magnitude. */
    private static final double SUMS_TOL = 1e-4;

    @OnEveryDevice
    void hmcPatternsEqualTheirComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Backend composed = new PrimitivesOnly(dev);
        RandomStream rng = new RandomStream(3);
        Tensor p = rng.normal(N, D), g = rng.normal(N, D), z = rng.normal(N, D), g1 = rng.normal(N, D);
        Tensor epsPerChain = rng.uniform(N, 1), epsShared = Tensor.of(new float[] {0.07f}, 1, 1);
        for (Tensor eps : new Tensor[] {epsPerChain, epsShared}) {
            for (float scale : new float[] {0.5f, 1f}) {
                Backend.Leapfrog fused = oneOp(dev, () -> dev.kickDrift(p.to(dev), eps.to(dev), scale, g.to(dev), z.to(dev)));
                Backend.Leapfrog comp = composed.kickDrift(p.to(dev), eps.to(dev), scale, g.to(dev), z.to(dev));
                Backend.Leapfrog cpu = cpu().kickDrift(p, eps, scale, g, z);
                assertBothClose(cpu.momentum(), fused.momentum(), comp.momentum());
                assertBothClose(cpu.position(), fused.position(), comp.position());
                assertEquals(null, dev.kickDrift(p.to(dev), eps.to(dev), scale, g.to(dev), null).position());
            }
        }
        assertBothClose(cpu().mix(g, 0.3f, g1, 0.7f), dev.mix(g.to(dev), 0.3f, g1.to(dev), 0.7f), composed.mix(g.to(dev), 0.3f, g1.to(dev), 0.7f));
        // a diagonal Gaussian's standardised values and score, [B, Z] broadcast over K chains per image
        Tensor zs = rng.normal(3, 5, 4), mu = rng.normal(5, 4), inv = rng.uniform(5, 4), neg = rng.normal(5, 4);
        for (Tensor b : new Tensor[] {neg, null}) {
            Tensor bd = b == null ? null : b.to(dev);
            Tensor fused = oneOp(dev, () -> dev.scaledDifference(zs.to(dev), mu.to(dev), inv.to(dev), bd));
            assertBothClose(cpu().scaledDifference(zs, mu, inv, b), fused, composed.scaledDifference(zs.to(dev), mu.to(dev), inv.to(dev), bd));
        }
        Tensor constant = rng.normal(5);
        Backend.Density fusedQ = oneOp(dev, () -> dev.diagonalGaussian(zs.to(dev), mu.to(dev), inv.to(dev), neg.to(dev), constant.to(dev)));
        Backend.Density compQ = composed.diagonalGaussian(zs.to(dev), mu.to(dev), inv.to(dev), neg.to(dev), constant.to(dev));
        Backend.Density cpuQ = cpu().diagonalGaussian(zs, mu, inv, neg, constant);
        assertBothClose(cpuQ.logDensity(), fusedQ.logDensity(), compQ.logDensity());
        assertBothClose(cpuQ.gradient(), fusedQ.gradient(), compQ.gradient());
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
        Tensor l0 = rng.normal(N);
        float[] big = rng.normal(N).toArray();
        big[3] = -5000f; // dH above the divergence limit
        big[5] = Float.NaN;
        Tensor l1 = Tensor.of(big, N);
        Tensor divCpu = Tensor.full(2f, N), divDev = divCpu.to(dev), divComp = divCpu.to(dev);
        Backend.Metropolis cpu = cpu().metropolis(l0, p0, l1, p1, u, 1000f, divCpu);
        Backend.Metropolis fused = oneOp(dev, () -> dev.metropolis(l0.to(dev), p0.to(dev), l1.to(dev), p1.to(dev), u.to(dev), 1000f, divDev));
        Backend.Metropolis comp = composed.metropolis(l0.to(dev), p0.to(dev), l1.to(dev), p1.to(dev), u.to(dev), 1000f, divComp);
        assertArrayEquals(cpu.accepted().toArray(), fused.accepted().toArray());
        assertArrayEquals(cpu.accepted().toArray(), comp.accepted().toArray());
        assertArrayEquals(cpu.divergent().toArray(), fused.divergent().toArray());
        assertArrayEquals(divCpu.toArray(), divDev.toArray());
        assertArrayEquals(divCpu.toArray(), divComp.toArray());
        assertEquals(3f, divDev.get(3));
        assertEquals(3f, divDev.get(5));
        assertBothClose(cpu.energyChange(), fused.energyChange(), comp.energyChange());

        Tensor into = rng.normal(N, D), a = rng.normal(N, D);
        Tensor expected = cpu().where(cpu.accepted(), a, into);
        Tensor intoDev = into.to(dev);
        dev.selectInto(fused.accepted(), a.to(dev), intoDev);
        assertArrayEquals(expected.toArray(), intoDev.toArray());
    }

    @OnEveryDevice
    void temperedKicksAndTestsEqualTheirComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Backend composed = new PrimitivesOnly(dev);
        RandomStream rng = new RandomStream(12);
        int k = 3, b = 5, d = 4, n = k * b;
        Tensor p = rng.normal(n, d), g0 = rng.normal(n, d), g1 = rng.normal(n, d), z = rng.normal(n, d);
        Tensor mu = rng.normal(b, d), a = rng.uniform(b, d), s = rng.normal(b, d);
        Tensor epsPerChain = rng.uniform(n, 1), epsShared = Tensor.of(new float[] {0.07f}, 1, 1);
        float b1 = 0.3f, b0 = 1 - b1;
        for (Tensor eps : new Tensor[] {epsPerChain, epsShared}) {
            for (float scale : new float[] {0.5f, 1f}) {
                for (boolean gaussian : new boolean[] {false, true}) {
                    for (boolean drift : new boolean[] {false, true}) {
                        if (gaussian && !drift) {
                            continue; // the score is taken at the position the kick drifts from
                        }
                        Backend.GaussianScore qd = gaussian ? new Backend.GaussianScore(mu.to(dev), a.to(dev), s.to(dev)) : null;
                        Backend.GaussianScore qc = gaussian ? new Backend.GaussianScore(mu, a, s) : null;
                        Tensor gd = gaussian ? null : g0.to(dev), gc = gaussian ? null : g0;
                        Tensor zd = drift ? z.to(dev) : null, zc = drift ? z : null;
                        Backend.Leapfrog fused = oneOp(dev, () -> dev.temperedKickDrift(p.to(dev), eps.to(dev), scale, gd, qd, b0, g1.to(dev), b1, zd));
                        Backend.Leapfrog comp = composed.temperedKickDrift(p.to(dev), eps.to(dev), scale, gd, qd, b0, g1.to(dev), b1, zd);
                        Backend.Leapfrog cpu = cpu().temperedKickDrift(p, eps, scale, gc, qc, b0, g1, b1, zc);
                        assertBothClose(cpu.momentum(), fused.momentum(), comp.momentum());
                        if (drift) {
                            assertBothClose(cpu.position(), fused.position(), comp.position());
                        } else {
                            assertEquals(null, fused.position());
                        }
                    }
                }
            }
        }
        // the CPU's composition is the mix, then the kick: the same bits as composing them by hand
        Tensor byHand = cpu().kickDrift(p, epsShared, 0.5f, cpu().mix(cpu().scaledDifference(z.reshape(k, b, d), mu, a, s).reshape(n, d),
                b0, g1, b1), z).position();
        assertArrayEquals(byHand.toArray(),
                cpu().temperedKickDrift(p, epsShared, 0.5f, null, new Backend.GaussianScore(mu, a, s), b0, g1, b1, z).position().toArray());

        Tensor p0 = rng.normal(n, d), p1 = rng.normal(n, d), u = rng.uniform(n);
        Tensor l00 = rng.normal(n), l01 = rng.normal(n), l10 = rng.normal(n);
        float[] big = rng.normal(n).toArray();
        big[2] = -50000f; // divergent
        Tensor l11 = Tensor.of(big, n);
        Tensor divCpu = Tensor.zeros(n), divDev = divCpu.to(dev), divComp = divCpu.to(dev);
        Backend.Metropolis cpu = cpu().temperedMetropolis(l00, l01, p0, l10, l11, p1, b0, b1, u, 1000f, divCpu);
        Backend.Metropolis fused = oneOp(dev, () -> dev.temperedMetropolis(l00.to(dev), l01.to(dev), p0.to(dev), l10.to(dev), l11.to(dev), p1.to(dev), b0, b1,
                u.to(dev), 1000f, divDev));
        Backend.Metropolis comp = composed.temperedMetropolis(l00.to(dev), l01.to(dev), p0.to(dev), l10.to(dev), l11.to(dev), p1.to(dev),
                b0, b1, u.to(dev), 1000f, divComp);
        assertBothClose(cpu.energyChange(), fused.energyChange(), comp.energyChange());
        assertArrayEquals(cpu.accepted().toArray(), fused.accepted().toArray());
        assertArrayEquals(cpu.accepted().toArray(), comp.accepted().toArray());
        assertArrayEquals(divCpu.toArray(), divDev.toArray());
        assertArrayEquals(divCpu.toArray(), divComp.toArray());
        assertEquals(1f, divDev.get(2));
    }

    @OnEveryDevice
    void aChainsWholeStateIsSelectedInOneLaunch(String name) {
        DeviceBackend dev = TestBackends.device(name);
        RandomStream rng = new RandomStream(13);
        float[] m = new float[N];
        for (int i = 0; i < N; i++) {
            m[i] = i % 3 == 0 ? 1 : 0;
        }
        Tensor mask = Tensor.of(m, N);
        int[][] shapes = {{N, D}, {N}, {N, D}, {N}, {N, 2}, {N, D}};
        java.util.List<Tensor> a = new java.util.ArrayList<>(), into = new java.util.ArrayList<>(), aDev = new java.util.ArrayList<>(),
                intoDev = new java.util.ArrayList<>();
        for (int[] sh : shapes) {
            Tensor x = rng.normal(sh), y = rng.normal(sh);
            a.add(x);
            into.add(y);
            aDev.add(x.to(dev));
            intoDev.add(y.to(dev));
        }
        java.util.List<Tensor> expected = new java.util.ArrayList<>();
        for (int i = 0; i < shapes.length; i++) {
            expected.add(cpu().where(mask, a.get(i), into.get(i)));
        }
        cpu().selectAllInto(mask, a, into);
        DeviceWork before = dev.work();
        dev.selectAllInto(mask.to(dev), aDev, intoDev);
        assertEquals(2, dev.work().since(before).ops(), "six tensors, five a launch");
        for (int i = 0; i < shapes.length; i++) {
            assertArrayEquals(expected.get(i).toArray(), into.get(i).toArray(), "cpu " + i);
            assertArrayEquals(expected.get(i).toArray(), intoDev.get(i).toArray(), name + " " + i);
        }
        // a mask as wide as the tensor (one value per element) and a view into a larger tensor
        Tensor wide = rng.uniform(N, D), src = rng.normal(N, D), dst = rng.normal(2 * N, D);
        Tensor wideMask = cpu().binary(org.aiwae.engine.backend.BinaryOp.LESS, wide, 0.5f);
        Tensor dstDev = dst.to(dev);
        dev.selectInto(wideMask.to(dev), src.to(dev), dstDev.rows(N, 2 * N));
        Tensor dstCpu = dst.copy();
        cpu().selectInto(wideMask, src, dstCpu.rows(N, 2 * N));
        assertArrayEquals(dstCpu.toArray(), dstDev.toArray());
        assertThrows(IllegalArgumentException.class, () -> dev.selectAllInto(mask.to(dev), java.util.List.of(src.to(dev)),
                java.util.List.of(dev.zeros(N + 1, D))));
    }

    @OnEveryDevice
    void bernoulliAndPriorTermsAreOneLaunchEachAndEqualTheirComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Backend composed = new PrimitivesOnly(dev);
        RandomStream rng = new RandomStream(14);
        int k = 3, b = 5, d = 70;
        Tensor x = binary(rng.uniform(b, d)), l = cpu().binary(BinaryOp.MUL, rng.normal(k, b, d), 4f), g = rng.normal(k, b, 1);
        Ways<Tensor> ll = Ways.run(dev, be -> be.bernoulliLogLikelihood(l.to(be), x.to(be)));
        assertArrayEquals(new int[] {k, b}, ll.fused().shape());
        ll.assertClose(TOL, t -> t);
        Ways.run(dev, be -> be.bernoulliScore(l.to(be), x.to(be), g.to(be))).assertClose(TOL, t -> t);
        // the kernel's score and the composed SIGMOID are one device function: equal bits, out to logits whose e^-l overflows
        float[] wide = l.toArray();
        float[] ends = {-200f, -95f, -88.8f, -87f, -20f, -0f, 0f, 1e-8f, 20f, 88.8f, 95f, 200f};
        System.arraycopy(ends, 0, wide, 0, ends.length);
        Tensor lw = Tensor.of(wide, k, b, d);
        assertArrayEquals(composed.bernoulliScore(lw.to(dev), x.to(dev), g.to(dev)).toArray(), dev.bernoulliScore(lw.to(dev), x.to(dev), g.to(dev)).toArray());
        Tensor z = rng.normal(k, b, 7);
        Ways<Tensor> prior = Ways.run(dev, be -> be.standardNormalLogDensity(z.to(be)));
        assertArrayEquals(new int[] {k, b}, prior.fused().shape());
        prior.assertClose(TOL, t -> t);
        // data that does not broadcast over the logits' leading dimensions (logits [B, 1, D] against data [K, D]) take the composition
        Tensor lb = rng.normal(b, 1, d), xk = binary(rng.uniform(k, d));
        assertBothClose(cpu().bernoulliLogLikelihood(lb, xk), dev.bernoulliLogLikelihood(lb.to(dev), xk.to(dev)),
                composed.bernoulliLogLikelihood(lb.to(dev), xk.to(dev)));
    }

    @OnEveryDevice
    void logSumExpAndItsGradientAreOneLaunchEachAndEqualTheirComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        RandomStream rng = new RandomStream(15);
        for (int[] shapeAndAxis : new int[][] {{50, 20, 0}, {2, 3, 4, 1}, {3, 5, 1}, {4, 6, 0}}) {
            int[] shape = java.util.Arrays.copyOf(shapeAndAxis, shapeAndAxis.length - 1);
            int axis = shapeAndAxis[shapeAndAxis.length - 1];
            Tensor a = cpu().binary(BinaryOp.MUL, rng.normal(shape), 30f); // spread: the maximum matters
            Ways<Tensor> y = Ways.run(dev, be -> be.logSumExp(a.to(be), axis));
            assertArrayEquals(y.host().shape(), y.fused().shape());
            y.assertClose(TOL, t -> t);
            Tensor g = rng.normal(y.host().shape());
            y.then(dev, (be, yb) -> be.logSumExpGrad(a.to(be), yb, g.to(be), axis)).assertClose(TOL, t -> t);
        }
    }

    @OnEveryDevice
    void theGaussianKlAndItsGradientAreOneLaunchEachAndEqualTheirComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        RandomStream rng = new RandomStream(16);
        Tensor mu = rng.normal(20, 50), logSigma = rng.normal(20, 50), g = rng.normal(20, 1);
        Ways<Backend.Kl> kl = Ways.run(dev, be -> be.gaussianKl(mu.to(be), logSigma.to(be)));
        assertArrayEquals(new int[] {20}, kl.fused().kl().shape());
        kl.assertClose(TOL, Backend.Kl::kl, Backend.Kl::variance);
        Ways<Backend.KlGradient> d = kl.then(dev, (be, k) -> be.gaussianKlGrad(mu.to(be), k.variance(), g.to(be)));
        d.assertClose(TOL, Backend.KlGradient::mu, Backend.KlGradient::logSigma);
    }

    @OnEveryDevice
    void aDiagonalGaussiansTermsAreOneLaunchEqualToTheirComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Tensor logSigma = new RandomStream(17).normal(20, 50);
        Ways<Backend.GaussianTerms> t = Ways.run(dev, be -> be.gaussianTerms(logSigma.to(be), 45.9f));
        t.assertClose(TOL, Backend.GaussianTerms::a, Backend.GaussianTerms::s, Backend.GaussianTerms::constant);
    }

    @OnEveryDevice
    void theGaussianLogDensityAndItsGradientsAreOneLaunchEachAndEqualTheirComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        RandomStream rng = new RandomStream(18);
        for (int k : new int[] {50, 1}) {
            int b = 20, d = 50;
            Tensor z = rng.normal(k, b, d), mu = rng.normal(b, d), logSigma = rng.normal(b, d), g = rng.normal(k, b, 1);
            Ways<Backend.GaussianLog> v = Ways.run(dev, be -> be.gaussianLogDensity(z.to(be), mu.to(be), logSigma.to(be)));
            assertArrayEquals(new int[] {k, b}, v.fused().logDensity().shape());
            v.assertClose(TOL, Backend.GaussianLog::logDensity, Backend.GaussianLog::u, Backend.GaussianLog::invSigma);
            for (int[] zShape : new int[][] {z.shape(), null}) {
                Ways<Backend.GaussianLogGradient> dv = v.then(dev, (be, vb) -> be.gaussianLogGrad(vb, g.to(be), zShape, mu.shape(), logSigma.shape()));
                if (zShape == null) {
                    assertEquals(null, dv.fused().z());
                } else {
                    dv.assertClose(TOL, Backend.GaussianLogGradient::z);
                }
                dv.assertClose(SUMS_TOL, Backend.GaussianLogGradient::mu, Backend.GaussianLogGradient::logSigma);
            }
        }
    }

    @OnEveryDevice
    void reparameterisedDrawsAndTheirGradientsAreOneLaunchEachAndEqualTheirComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        RandomStream rng = new RandomStream(20);
        for (int k : new int[] {50, 1}) {
            Tensor mu = rng.normal(20, 50), logSigma = rng.normal(20, 50), eps = rng.normal(k, 20, 50), g = rng.normal(k, 20, 50);
            Ways<Backend.Reparameterized> r = Ways.run(dev, be -> be.reparameterize(mu.to(be), logSigma.to(be), eps.to(be)));
            r.assertClose(TOL, Backend.Reparameterized::z, Backend.Reparameterized::sigma);
            Ways<Backend.ReparameterizedGradient> d = r.then(dev, (be, rb) -> be.reparameterizeGrad(g.to(be), eps.to(be), rb.sigma(), mu.shape()));
            d.assertClose(SUMS_TOL, Backend.ReparameterizedGradient::mu, Backend.ReparameterizedGradient::logSigma);
        }
    }

    @OnEveryDevice
    void aScaledSumAndItsGradientAreOneLaunchEachAndEqualTheirComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Backend composed = new PrimitivesOnly(dev);
        RandomStream rng = new RandomStream(23);
        Tensor a = rng.normal(5, 128), w = rng.uniform(5, 128), g = Tensor.of(new float[] {0.7f});
        for (Tensor wt : new Tensor[] {w, null}) {
            Tensor wd = wt == null ? null : wt.to(dev);
            Tensor y = oneOp(dev, () -> dev.scaledSum(a.to(dev), wd, -1f / 128));
            Tensor yComp = composed.scaledSum(a.to(dev), wd, -1f / 128);
            assertArrayEquals(yComp.toArray(), y.toArray(), "the same products and tree as the composition");
            assertBothClose(cpu().scaledSum(a, wt, -1f / 128), y, yComp);
            Tensor d = oneOp(dev, () -> dev.scaledSumGrad(g.to(dev), wd, -1f / 128, a.shape()));
            assertArrayEquals(composed.scaledSumGrad(g.to(dev), wd, -1f / 128, a.shape()).toArray(), d.toArray());
            assertArrayEquals(cpu().scaledSumGrad(g, wt, -1f / 128, a.shape()).toArray(), d.toArray());
        }
    }

    @OnEveryDevice
    void aSumsGradientIsOneLaunchAndAConstantOneFill(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Backend composed = new PrimitivesOnly(dev);
        RandomStream rng = new RandomStream(19);
        for (int[] shapeAndAxis : new int[][] {{640, 0}, {5, 128, 0}, {5, 128, 1}, {2, 3, 4, 1}, {2, 3, 4, 2}}) {
            int[] shape = java.util.Arrays.copyOf(shapeAndAxis, shapeAndAxis.length - 1);
            int axis = shapeAndAxis[shapeAndAxis.length - 1];
            Tensor g = rng.normal(org.aiwae.engine.Shapes.drop(shape, axis));
            Tensor y = oneOp(dev, () -> dev.expand(g.to(dev), axis, shape));
            assertArrayEquals(cpu().expand(g, axis, shape).toArray(), y.toArray());
            assertArrayEquals(composed.expand(g.to(dev), axis, shape).toArray(), y.toArray());
        }
        Tensor ones = oneOp(dev, () -> dev.full(1.5f, 3, 4));
        assertArrayEquals(Tensor.full(1.5f, 3, 4).toArray(), ones.toArray());
    }

    /** 0 or 1 where {@code u} is below or above 1/2. */
    private static Tensor binary(Tensor u) {
        return cpu().binary(BinaryOp.LESS, u, 0.5f);
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
        assertBothClose(wc, wd, wk);
        assertBothClose(cc, cd, ck);
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
            assertArrayEquals(comp[i].toArray(), fused[i].toArray(), "the composition's operations in the kernel's order: " + i);
        }
    }

    @OnEveryDevice
    void adamOverSeveralTensorsIsOneLaunchPerFourAndEqualsOneTensorAtATime(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Backend composed = new PrimitivesOnly(dev);
        RandomStream rng = new RandomStream(8);
        int[][] shapes = {{7, 9}, {9}, {200, 50}, {1}, {13, 3}};
        Tensor clockHost = Tensor.of(new float[] {2, 0, 0, 1e-3f}, 4);
        Tensor ok = Tensor.scalar(0.5f);
        java.util.List<Tensor> w = new java.util.ArrayList<>(), g = new java.util.ArrayList<>(), m = new java.util.ArrayList<>(),
                v = new java.util.ArrayList<>();
        for (int[] s : shapes) {
            w.add(rng.normal(s));
            g.add(rng.normal(s));
            m.add(rng.normal(s));
            v.add(rng.uniform(s));
        }
        Tensor[][] fused = new Tensor[4][shapes.length], comp = new Tensor[4][shapes.length];
        for (Tensor[][] t : new Tensor[][][] {fused, comp}) {
            for (int i = 0; i < shapes.length; i++) {
                t[0][i] = w.get(i).to(dev);
                t[1][i] = g.get(i).to(dev);
                t[2][i] = m.get(i).to(dev);
                t[3][i] = v.get(i).to(dev);
            }
        }
        Tensor clock = clockHost.to(dev);
        dev.adamClock(clock, 0.9f, 0.999f, 1e-4f, ok.to(dev));
        Tensor gate = ok.to(dev);
        DeviceWork before = dev.work();
        dev.adamUpdateAll(java.util.List.of(fused[0]), java.util.List.of(fused[1]), java.util.List.of(fused[2]),
                java.util.List.of(fused[3]), 0.9f, 0.999f, clock, gate);
        assertEquals(2, dev.work().since(before).launches(), "five tensors in two launches");
        assertEquals(0, dev.work().since(before).copies() + dev.work().since(before).fills());
        for (int i = 0; i < shapes.length; i++) {
            composed.adamUpdate(comp[0][i], comp[1][i], comp[2][i], comp[3][i], 0.9f, 0.999f, clock, gate);
        }
        for (int i = 0; i < shapes.length; i++) {
            for (int k : new int[] {0, 2, 3}) {
                assertArrayEquals(comp[k][i].toArray(), fused[k][i].toArray());
            }
            assertArrayEquals(g.get(i).toArray(), fused[1][i].toArray(), "gradients untouched");
        }
        Tensor nan = Tensor.scalar(Float.NaN).to(dev);
        float[] w0 = fused[0][2].toArray();
        dev.adamUpdateAll(java.util.List.of(fused[0]), java.util.List.of(fused[1]), java.util.List.of(fused[2]),
                java.util.List.of(fused[3]), 0.9f, 0.999f, clock, gate, nan);
        assertArrayEquals(w0, fused[0][2].toArray(), "a closed gate moves nothing");
    }

    @OnEveryDevice
    void aDenseLayerIsOneLaunchEqualToItsComposition(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Backend composed = new PrimitivesOnly(dev);
        RandomStream rng = new RandomStream(9);
        for (int[] mnk : new int[][] {{640, 200, 50}, {7, 5, 3}, {65, 130, 257}, {1, 1, 1}}) {
            Tensor x = rng.normal(mnk[0], mnk[2]), w = rng.normal(mnk[1], mnk[2]), b = rng.normal(mnk[1]);
            for (boolean tanh : new boolean[] {false, true}) {
                Tensor fused = oneOp(dev, () -> dev.dense(x.to(dev), w.to(dev), b.to(dev), tanh));
                Tensor comp = composed.dense(x.to(dev), w.to(dev), b.to(dev), tanh);
                // the product is the CPU's in bits and the bias is added as the composition adds it; tanh is the device's
                if (!tanh) {
                    assertArrayEquals(comp.toArray(), fused.toArray());
                    assertArrayEquals(cpu().dense(x, w, b, false).toArray(), fused.toArray());
                } else {
                    assertArrayEquals(comp.toArray(), fused.toArray());
                    assertBothClose(cpu().dense(x, w, b, true), fused, comp);
                }
            }
        }
        // the gradient at a hidden layer's pre-activation from the layer above: the product (the CPU's bits) times 1 - h^2
        for (int[] mnk : new int[][] {{640, 200, 784}, {7, 5, 3}, {1, 1, 1}}) {
            Tensor g = rng.normal(mnk[0], mnk[2]), w = rng.normal(mnk[2], mnk[1]);
            Tensor h = cpu().unary(org.aiwae.engine.backend.UnaryOp.TANH, rng.normal(mnk[0], mnk[1]));
            Tensor fused = oneOp(dev, () -> dev.denseBackTanh(g.to(dev), w.to(dev), h.to(dev)));
            assertBothClose(cpu().denseBackTanh(g, w, h), fused, composed.denseBackTanh(g.to(dev), w.to(dev), h.to(dev)));
        }
        // a bias that is a view (not at its buffer's start) takes the composition
        Tensor x = rng.normal(4, 3), w = rng.normal(2, 3), bb = rng.normal(5);
        assertArrayEquals(cpu().dense(x, w, bb.rows(3, 5), false).toArray(), dev.dense(x.to(dev), w.to(dev), bb.to(dev).rows(3, 5), false).toArray());
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

    @OnEveryDevice
    void aTransitionsMomentaAndUniformsAreOneDrawOfTheKeyedStream(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Backend composed = new PrimitivesOnly(dev);
        RandomStream host = new RandomStream(21, 22, 3);
        Tensor key = dev.zeros(4).copyFrom(host.keyWords());
        RandomStream keyed = new RandomStream(21, 22, 3).keyedBy(key);
        DeviceWork before = dev.work();
        Backend.Draws d = new org.aiwae.engine.random.ChainNoise.Shared(keyed).transition(dev, 37, 11); // 407 normals: a partial block
        assertEquals(1, dev.work().since(before).ops(), "one launch");
        Backend.Draws c = composed.philoxNormalsThenUniforms(key, 3, new int[] {37, 11}, new int[] {37});
        assertArrayEquals(c.normals().toArray(), d.normals().toArray());
        assertArrayEquals(c.uniforms().toArray(), d.uniforms().toArray());
        assertArrayEquals(host.normal(37, 11).toArray(), d.normals().toArray(), 1e-6f);
        assertArrayEquals(host.uniform(37).toArray(), d.uniforms().toArray(), "uniforms bit for bit");
        assertArrayEquals(host.uniform(5).toArray(), keyed.uniform(dev, 5).toArray(), "the stream advanced past both draws");
    }

    /** What {@code op} returns, after checking that it issued exactly one device operation (a launch, or a fill). */
    private static <T> T oneOp(DeviceBackend dev, java.util.function.Supplier<T> op) {
        DeviceWork before = dev.work();
        T result = op.get();
        assertEquals(1, dev.work().since(before).ops(), "one device operation");
        return result;
    }

    private static Backend cpu() {
        return org.aiwae.engine.backend.Backends.cpu();
    }

    /** The fused {@code a} and the composed {@code b} (on any placement) equal {@code expected} to {@code tol (1 + |expected|)}. */
    private static void assertBothClose(Tensor expected, Tensor a, Tensor b, double tol) {
        assertClose(expected, a, tol, "fused");
        assertClose(expected, b, tol, "composed");
    }

    /** {@link #assertBothClose(Tensor, Tensor, Tensor, double)} to float rounding ({@link #TOL}). */
    private static void assertBothClose(Tensor expected, Tensor a, Tensor b) {
        assertBothClose(expected, a, b, TOL);
    }

    /**
     * An op run three ways: on the CPU with host tensors, fused on the device (checked to be one device operation) and
     * composed from the device's primitives ({@link PrimitivesOnly}); the op takes the backend and moves its inputs there.
     */
    private record Ways<T>(T host, T fused, T composed) {
        static <T> Ways<T> run(DeviceBackend dev, Function<Backend, T> op) {
            return new Ways<>(op.apply(cpu()), oneOp(dev, () -> op.apply(dev)), op.apply(new PrimitivesOnly(dev)));
        }

        /** The next op, each way on its own result (the fused one checked to be one device operation). */
        <U> Ways<U> then(DeviceBackend dev, BiFunction<Backend, T, U> op) {
            return new Ways<>(op.apply(cpu(), host), oneOp(dev, () -> op.apply(dev, fused)), op.apply(new PrimitivesOnly(dev), composed));
        }

        /** The fused and the composed value of each of {@code parts} equal the CPU's to {@code tol (1 + |cpu|)}. */
        @SafeVarargs
        final void assertClose(double tol, Function<T, Tensor>... parts) {
            for (Function<T, Tensor> part : parts) {
                assertBothClose(part.apply(host), part.apply(fused), part.apply(composed), tol);
            }
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
        public Tensor philox(Tensor key, long position, boolean normal, int... shape) {
            return d.philox(key, position, normal, shape);
        }

        @Override
        public DecoderKernel decoder(TanhMlpDecoder decoder, int maxRows) {
            return d.decoder(decoder, maxRows);
        }
    }
}
