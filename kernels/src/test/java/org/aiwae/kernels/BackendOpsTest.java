package org.aiwae.kernels;

import static org.aiwae.kernels.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import java.util.function.Function;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Autograd;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.backend.UnaryOp;
import org.aiwae.engine.optim.Adam;
import org.aiwae.engine.random.RandomStream;

/**
 * Every primitive and every differentiable op, forward and backward, on each backend against the CPU
 * backend (the reference), from one source: {@code cpu} checks the code path itself, {@code opencl}
 * (PoCL in CI) and {@code cuda} (where a GPU exists) the device kernels. The results are read back
 * only at the end, so they also show that the ops keep their data on the backend.
 *
 * <p>Tolerances (float32): elementwise maps {@code 2e-6 (1 + |cpu|)} (a few ulp of the device's
 * expf/logf/tanhf against FloatMath's polynomials); sums of n terms {@code 1e-6 sqrt(n) (1 + |cpu|)}
 * more; products of depth k {@code 1e-5 sqrt(k) (1 + |cpu|)}.
 */
class BackendOpsTest {

    private static Tensor data(long seed, int... shape) {
        return new RandomStream(seed).normal(shape);
    }

    @OnEveryBackend
    void primitivesMatchTheCpu(String name) {
        Backend be = TestBackends.get(name), cpu = Backends.cpu();
        Tensor a = data(1, 3, 4, 5), pos = cpu.unary(UnaryOp.EXP, data(2, 3, 4, 5));
        Tensor da = a.to(be), dpos = pos.to(be);
        for (UnaryOp op : UnaryOp.values()) {
            Tensor in = op == UnaryOp.LOG || op == UnaryOp.SQRT ? pos : a;
            Tensor out = be.unary(op, in.to(be));
            assertSame(be.isHost() ? Placement.HOST : be, out.placement(), op + " stays on the backend");
            assertClose(cpu.unary(op, in).toArray(), out.toArray(), 2e-6, name + " " + op);
        }
        int[][] others = {{3, 4, 5}, {5}, {4, 1}, {3, 1, 5}, {1, 4, 1}, {}};
        for (BinaryOp op : BinaryOp.values()) {
            for (int[] s : others) {
                Tensor b = op == BinaryOp.DIV ? cpu.unary(UnaryOp.EXP, data(3, s)) : data(3, s);
                assertClose(cpu.binary(op, a, b).toArray(), be.binary(op, da, b.to(be)).toArray(), 2e-6, name + " " + op + " [3,4,5] with " + List.of(s));
                assertClose(cpu.binary(op, b, a).toArray(), be.binary(op, b.to(be), da).toArray(), 2e-6, name + " " + op + " " + List.of(s) + " with [3,4,5]");
            }
            assertClose(cpu.binary(op, a, 0.75f).toArray(), be.binary(op, da, 0.75f).toArray(), 2e-6, name + " " + op + " with a constant");
        }
        for (ReduceOp op : ReduceOp.values()) {
            for (int axis = 0; axis < 3; axis++) {
                assertClose(cpu.reduce(op, a, axis).toArray(), be.reduce(op, da, axis).toArray(), 1e-5, name + " " + op + " axis " + axis);
            }
            Tensor big = data(4, 2, 3000);
            assertClose(cpu.reduce(op, big, 1).toArray(), be.reduce(op, big.to(be), 1).toArray(), 1e-4, name + " " + op + " of 3000");
        }
        for (int[] s : new int[][] {{4, 5}, {5}, {3, 1, 5}, {1, 4, 1}, {3, 4, 1}, {3, 4, 5}}) {
            assertClose(cpu.sumTo(a, s).toArray(), be.sumTo(da, s).toArray(), 1e-5, name + " sumTo " + List.of(s));
            assertArrayEquals(s, be.sumTo(da, s).shape());
        }
        Tensor mask = Tensor.of(new float[] {1, 0, 1}, 3), b = data(5, 3, 4, 5);
        assertClose(cpu.where(mask, a, b).toArray(), be.where(mask.to(be), da, b.to(be)).toArray(), 0, name + " where");
        // views: offsets into a shared buffer
        Tensor rows = a.reshape(12, 5).rows(4, 9);
        assertClose(cpu.unary(UnaryOp.TANH, rows).toArray(), be.unary(UnaryOp.TANH, da.reshape(12, 5).rows(4, 9)).toArray(), 2e-6, name + " view");
        assertEquals(dpos.size(), 60);
    }

    @OnEveryBackend
    void philoxFillsDrawTheHostStreams(String name) {
        Backend be = TestBackends.get(name);
        RandomStream host = new RandomStream(77, 5, 3), dev = new RandomStream(77, 5, 3);
        for (int n : new int[] {1, 7, 64, 1001}) {
            assertArrayEquals(host.uniform(n).toArray(), dev.uniform(be, n).toArray(), name + " uniforms, bit for bit");
            assertClose(host.normal(3, n).toArray(), dev.normal(be, 3, n).toArray(), 1e-6, name + " normals");
            assertEquals(host.position(), dev.position(), "both streams advance alike");
        }
    }

    /** An op's value and its gradients on the backend against the CPU's. */
    private static void assertOp(Backend be, String what, Function<Var[], Var> f, Tensor... inputs) {
        float[][] expected = run(Backends.cpu(), f, inputs), actual = run(be, f, inputs);
        for (int i = 0; i < expected.length; i++) {
            assertClose(expected[i], actual[i], 2e-5, be.name() + " " + what + (i == 0 ? " value" : " d/dx" + (i - 1)));
        }
    }

    private static float[][] run(Backend be, Function<Var[], Var> f, Tensor... inputs) {
        Var[] vs = new Var[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            vs[i] = Var.param(inputs[i].to(be));
        }
        Var[] out = new Var[1];
        Autograd.Result r = Autograd.grad(() -> {
            out[0] = f.apply(vs);
            return Ops.sum(out[0]);
        }, vs);
        float[][] res = new float[inputs.length + 1][];
        res[0] = out[0].value().toArray();
        for (int i = 0; i < inputs.length; i++) {
            res[i + 1] = r.grads()[i].toArray();
        }
        return res;
    }

    @OnEveryBackend
    void everyOpForwardAndBackwardMatchesTheCpu(String name) {
        Backend be = TestBackends.get(name);
        Tensor x = data(11, 4, 6), y = data(12, 4, 6), row = data(13, 6), w = data(14, 3, 6), bias = data(15, 3);
        Tensor pos = Backends.cpu().unary(UnaryOp.EXP, data(16, 4, 6)), k3 = data(17, 2, 4, 6);
        assertOp(be, "add", v -> Ops.add(v[0], v[1]), x, row);
        assertOp(be, "sub", v -> Ops.sub(v[0], v[1]), x, y);
        assertOp(be, "mul", v -> Ops.mul(v[0], v[1]), k3, x);
        assertOp(be, "div", v -> Ops.div(v[0], v[1]), x, pos);
        assertOp(be, "add constant", v -> Ops.add(v[0], 1.5f), x);
        assertOp(be, "mul constant", v -> Ops.mul(v[0], -2f), x);
        assertOp(be, "neg", v -> Ops.neg(v[0]), x);
        assertOp(be, "square", v -> Ops.square(v[0]), x);
        assertOp(be, "exp", v -> Ops.exp(v[0]), x);
        assertOp(be, "log", v -> Ops.log(v[0]), pos);
        assertOp(be, "tanh", v -> Ops.tanh(v[0]), x);
        assertOp(be, "sigmoid", v -> Ops.sigmoid(v[0]), x);
        assertOp(be, "softplus", v -> Ops.softplus(v[0]), x);
        assertOp(be, "relu", v -> Ops.relu(v[0]), x);
        assertOp(be, "abs", v -> Ops.abs(v[0]), x);
        assertOp(be, "sqrt", v -> Ops.sqrt(v[0]), pos);
        assertOp(be, "pow 3", v -> Ops.pow(v[0], 3), x);
        assertOp(be, "pow -1.5", v -> Ops.pow(v[0], -1.5f), pos);
        assertOp(be, "log1p", v -> Ops.log1p(v[0]), pos);
        assertOp(be, "expm1", v -> Ops.expm1(v[0]), x);
        assertOp(be, "lgamma", v -> Ops.lgamma(v[0]), pos);
        assertOp(be, "gather", v -> Ops.gather(v[0], 1, 2, 0, 2), k3);
        assertOp(be, "concat", v -> Ops.concat(0, v[0], v[1]), k3, data(20, 1, 4, 6));
        assertOp(be, "sum axis", v -> Ops.sum(v[0], 1), k3);
        assertOp(be, "mean", v -> Ops.mean(v[0], 0), k3);
        assertOp(be, "logsumexp", v -> Ops.logsumexp(v[0], 0), k3);
        assertOp(be, "reshape", v -> Ops.reshape(v[0], 6, 4), x);
        assertOp(be, "matmul", v -> Ops.matmul(v[0], false, v[1], true), x, w);
        assertOp(be, "matmul transposed", v -> Ops.matmul(v[0], true, v[1], false), x, y);
        assertOp(be, "linear", v -> Ops.linear(v[0], v[1], v[2]), k3, w, bias);
        Tensor bits = Backends.cpu().binary(BinaryOp.SUB, data(18, 4, 6), 0f);
        float[] bd = bits.data();
        for (int i = 0; i < bd.length; i++) {
            bd[i] = bd[i] > 0 ? 1 : 0;
        }
        assertOp(be, "bernoulliLogProb", v -> Ops.bernoulliLogProb(v[0], v[1]), k3, bits);
        assertOp(be, "gaussianLogProb", v -> Ops.gaussianLogProb(v[0], v[1], v[2]), k3, x, data(19, 4, 6));
        assertOp(be, "gaussianKlToStandardNormal", v -> Ops.gaussianKlToStandardNormal(v[0], v[1]), x, y);
        assertOp(be, "standardNormalLogProb", v -> Ops.standardNormalLogProb(v[0]), k3);
    }

    @OnEveryBackend
    void adamTakesTheCpusStepsBitForBit(String name) {
        // Adam on the host (the CPU's vector loop) and in the backend's memory (on a device: adamClock, then adamUpdateAll's
        // launches, each product rounded on its own): the same float operations in the same order, so the same parameters
        // and moments after several steps, a learning-rate change, a step whose gate is closed and one of tiny gradients
        Backend be = TestBackends.get(name);
        RandomStream rng = new RandomStream(12);
        int[][] shapes = {{7, 9}, {9}, {200, 50}, {1}, {13, 3}};
        List<Var> host = new java.util.ArrayList<>(), there = new java.util.ArrayList<>();
        for (int[] s : shapes) {
            Tensor w = rng.normal(s);
            host.add(Var.param(w));
            there.add(Var.param(w.to(be)));
        }
        Adam onHost = Adam.paper(host), onBackend = Adam.paper(there);
        float[] rates = {1e-3f, 1e-3f, 3e-4f, 3e-4f, 3e-4f, 7e-2f};
        for (int step = 0; step < rates.length; step++) {
            onHost.zeroGrad();
            onBackend.zeroGrad();
            for (int i = 0; i < shapes.length; i++) {
                Tensor g = rng.normal(shapes[i]);
                if (step == 4) {
                    g = Backends.cpu().binary(BinaryOp.MUL, g, 1e-6f); // the update dominated by epsHat
                }
                host.get(i).accumulate(g);
                there.get(i).accumulate(g.to(be));
            }
            Tensor loss = Tensor.scalar(step == 2 ? Float.NaN : 1f); // the third step is skipped on both
            onHost.step(rates[step], loss);
            onBackend.step(rates[step], loss.to(be));
        }
        assertEquals(rates.length - 1, onHost.steps());
        assertEquals(onHost.steps(), onBackend.steps());
        for (int i = 0; i < shapes.length; i++) {
            assertSame(be.isHost() ? Placement.HOST : be, there.get(i).value().placement(), "the parameter stays where it was");
            assertArrayEquals(host.get(i).value().toArray(), there.get(i).value().toArray(), name + " parameters " + i);
            assertArrayEquals(onHost.firstMoments()[i].toArray(), onBackend.firstMoments()[i].toArray(), name + " first moments " + i);
            assertArrayEquals(onHost.secondMoments()[i].toArray(), onBackend.secondMoments()[i].toArray(), name + " second moments " + i);
        }
    }
}
