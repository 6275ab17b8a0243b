package org.aiwae.engine.autodiff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Function;
import org.aiwae.engine.Ref;
import org.aiwae.engine.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Every op's gradient against central finite differences of a double-precision reference, on
 * random inputs including broadcast cases. The loss is {@code sum(op(inputs) * r)} for a random
 * cotangent r, so every element of the Jacobian is exercised.
 */
class GradCheckTest {
    private static final double LOG_2PI = Math.log(2 * Math.PI);
    private final Random rnd = new Random(7);

    private Tensor rand(double lo, double hi, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        }
        return t;
    }

    private Tensor randn(int... shape) {
        return rand(-2, 2, shape);
    }

    /** Checks forward values and every input's gradient. */
    private void check(String name, Function<Var[], Var> op, Function<Ref[], Ref> ref, Tensor... inputs) {
        Var[] vars = new Var[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            vars[i] = Var.param(inputs[i].copy());
        }
        Var out = op.apply(vars);
        Ref[] refIn = new Ref[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            refIn[i] = Ref.of(inputs[i]);
        }
        Ref expected = ref.apply(refIn);
        assertArrayEquals(expected.shape(), out.shape(), name + ": output shape");
        float[] got = out.value().toArray();
        for (int j = 0; j < got.length; j++) {
            assertEquals(expected.v()[j], got[j], 1e-4 * Math.max(1, Math.abs(expected.v()[j])), name + ": value " + j);
        }
        Tensor r = rand(-1, 1, out.shape());
        Ops.sum(Ops.mul(out, Var.constant(r))).backward();
        Ref rr = Ref.of(r);
        for (int i = 0; i < inputs.length; i++) {
            Tensor grad = vars[i].grad();
            assertTrue(grad != null, name + ": input " + i + " received no gradient");
            for (int j = 0; j < refIn[i].v().length; j++) {
                double keep = refIn[i].v()[j];
                double h = 1e-6 * Math.max(1, Math.abs(keep));
                refIn[i].v()[j] = keep + h;
                double up = ref.apply(refIn).zip(rr, (a, b) -> a * b).total();
                refIn[i].v()[j] = keep - h;
                double down = ref.apply(refIn).zip(rr, (a, b) -> a * b).total();
                refIn[i].v()[j] = keep;
                double fd = (up - down) / (2 * h);
                assertEquals(fd, grad.data()[grad.offset() + j], 2e-3 * Math.max(1, Math.abs(fd)),
                        name + ": d/d input " + i + " element " + j);
            }
        }
    }

    @Test
    void elementwiseArithmeticWithBroadcasting() {
        int[][][] cases = {{{3, 4}, {3, 4}}, {{2, 3, 4}, {3, 4}}, {{2, 3, 4}, {3, 1}}, {{4}, {2, 3, 4}}, {{2, 1, 4}, {3, 1}}};
        for (int[][] c : cases) {
            Tensor a = randn(c[0]), b = randn(c[1]);
            Tensor bPos = rand(0.5, 2, c[1]);
            check("add", v -> Ops.add(v[0], v[1]), r -> r[0].zip(r[1], Double::sum), a, b);
            check("sub", v -> Ops.sub(v[0], v[1]), r -> r[0].zip(r[1], (x, y) -> x - y), a, b);
            check("mul", v -> Ops.mul(v[0], v[1]), r -> r[0].zip(r[1], (x, y) -> x * y), a, b);
            check("div", v -> Ops.div(v[0], v[1]), r -> r[0].zip(r[1], (x, y) -> x / y), a, bPos);
        }
        check("add scalar", v -> Ops.add(v[0], 1.5f), r -> r[0].map(x -> x + 1.5), randn(3, 5));
        check("mul scalar", v -> Ops.mul(v[0], -0.75f), r -> r[0].map(x -> -0.75 * x), randn(3, 5));
        check("neg", v -> Ops.neg(v[0]), r -> r[0].map(x -> -x), randn(3, 5));
        check("square", v -> Ops.square(v[0]), r -> r[0].map(x -> x * x), randn(3, 5));
    }

    @Test
    void functions() {
        check("exp", v -> Ops.exp(v[0]), r -> r[0].map(Math::exp), randn(4, 6));
        check("log", v -> Ops.log(v[0]), r -> r[0].map(Math::log), rand(0.2, 3, 4, 6));
        check("tanh", v -> Ops.tanh(v[0]), r -> r[0].map(Math::tanh), randn(4, 6));
        check("sigmoid", v -> Ops.sigmoid(v[0]), r -> r[0].map(x -> 1 / (1 + Math.exp(-x))), rand(-6, 6, 4, 6));
        check("softplus", v -> Ops.softplus(v[0]), r -> r[0].map(x -> Math.log1p(Math.exp(x))), rand(-8, 8, 4, 6));
    }

    @Test
    void functionsForOrdinaryModels() {
        check("relu", v -> Ops.relu(v[0]), r -> r[0].map(x -> Math.max(x, 0)), randn(4, 6));
        check("abs", v -> Ops.abs(v[0]), r -> r[0].map(Math::abs), randn(4, 6));
        check("sqrt", v -> Ops.sqrt(v[0]), r -> r[0].map(Math::sqrt), rand(0.1, 4, 4, 6));
        for (float p : new float[] {2, 3, -2, 0, 1, 5}) {
            check("pow " + p, v -> Ops.pow(v[0], p), r -> r[0].map(x -> Math.pow(x, p)), p < 0 ? rand(0.5, 2, 4, 6) : randn(4, 6));
        }
        for (float p : new float[] {0.5f, -1.5f, 2.7f}) {
            check("pow " + p, v -> Ops.pow(v[0], p), r -> r[0].map(x -> Math.pow(x, p)), rand(0.2, 3, 4, 6));
        }
        Var zero = Var.param(Tensor.of(new float[] {0f, 2f}, 2));
        Ops.sum(Ops.pow(zero, 0)).backward();
        assertArrayEquals(new float[] {0f, 0f}, zero.grad().toArray(), "d a^0 / da, also at 0");
        Var z2 = Var.param(Tensor.of(new float[] {0f, -2f}, 2));
        Ops.sum(Ops.pow(z2, 3)).backward();
        assertArrayEquals(new float[] {0f, 12f}, z2.grad().toArray(), "d a^3 / da at 0 and -2");
        check("log1p", v -> Ops.log1p(v[0]), r -> r[0].map(Math::log1p), rand(-0.9, 5, 4, 6));
        check("expm1", v -> Ops.expm1(v[0]), r -> r[0].map(Math::expm1), rand(-5, 5, 4, 6));
        check("lgamma", v -> Ops.lgamma(v[0]), r -> r[0].map(GradCheckTest::lgamma), rand(0.05, 12, 4, 6));
        check("lgamma large", v -> Ops.lgamma(v[0]), r -> r[0].map(GradCheckTest::lgamma), rand(10, 400, 3, 5));
    }

    @Test
    void log1pExpm1AndLgammaAreAccurateInFloat() {
        float[] small = {1e-10f, -3e-8f, 1e-6f, -2e-4f, 0.01f, 0.3f, -0.5f, 3f, 1e6f, 1e30f};
        float[] l1 = Ops.log1p(Var.constant(Tensor.of(small, small.length))).value().toArray();
        float[] e1 = Ops.expm1(Var.constant(Tensor.of(small, small.length))).value().toArray();
        for (int i = 0; i < small.length; i++) {
            double x = small[i];
            assertEquals(Math.log1p(x), l1[i], 4e-7 * Math.abs(Math.log1p(x)), "log1p(" + x + ")");
            if (x < 80) {
                assertEquals(Math.expm1(x), e1[i], 4e-7 * Math.abs(Math.expm1(x)), "expm1(" + x + ")");
            }
        }
        float[] edges = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, -1f, -2f, 0f, 200f};
        float[] l1e = Ops.log1p(Var.constant(Tensor.of(edges, edges.length))).value().toArray();
        float[] e1e = Ops.expm1(Var.constant(Tensor.of(edges, edges.length))).value().toArray();
        assertArrayEquals(new float[] {Float.POSITIVE_INFINITY, Float.NaN, Float.NaN, Float.NEGATIVE_INFINITY, Float.NaN, 0f,
                (float) Math.log1p(200)}, l1e, 1e-5f);
        assertArrayEquals(new float[] {Float.POSITIVE_INFINITY, -1f, Float.NaN, (float) Math.expm1(-1), (float) Math.expm1(-2), 0f,
                Float.POSITIVE_INFINITY}, e1e, 1e-6f);
        float[] xs = {1e-3f, 0.5f, 1f, 1.5f, 2f, 2.5f, 3.999f, 4f, 10f, 100f, 1e4f, 1e6f};
        float[] lg = Ops.lgamma(Var.constant(Tensor.of(xs, xs.length))).value().toArray();
        for (int i = 0; i < xs.length; i++) {
            double ref = lgamma(xs[i]);
            assertEquals(ref, lg[i], 3e-6 + 4e-7 * Math.abs(ref), "lgamma(" + xs[i] + ")");
        }
        assertEquals(0.5 * Math.log(Math.PI), lg[1], 1e-6, "lgamma(1/2) = log sqrt(pi)");
        float[] bad = Ops.lgamma(Var.constant(Tensor.of(new float[] {0f, -1.5f}, 2))).value().toArray();
        assertTrue(Float.isNaN(bad[0]) && Float.isNaN(bad[1]), "lgamma outside x > 0 is NaN");
    }

    private static final double[] LANCZOS = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};

    /** log Gamma(x) in double: Lanczos (g = 7, 9 terms; relative error ~1e-15), with the reflection below 1/2. */
    static double lgamma(double x) {
        if (x < 0.5) {
            return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
        }
        double y = x - 1, a = LANCZOS[0], t = y + 7.5;
        for (int i = 1; i < LANCZOS.length; i++) {
            a += LANCZOS[i] / (y + i);
        }
        return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
    }

    @Test
    void gatherAndConcatAlongAnAxis() {
        Tensor a = randn(2, 3, 4);
        // axis 1, with a repeat (its gradient is the sum of both places')
        int[] idx = {2, 0, 2};
        check("gather axis 1", v -> Ops.gather(v[0], 1, idx), r -> {
            double[] out = new double[2 * 3 * 4];
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) {
                    for (int t = 0; t < 4; t++) {
                        out[(i * 3 + j) * 4 + t] = r[0].v()[(i * 3 + idx[j]) * 4 + t];
                    }
                }
            }
            return new Ref(out, new int[] {2, 3, 4});
        }, a);
        check("gather axis 0", v -> Ops.gather(v[0], 0, 1), r -> new Ref(java.util.Arrays.copyOfRange(r[0].v(), 12, 24), new int[] {1, 3, 4}), a);
        check("gather last axis", v -> Ops.gather(v[0], -1, 3, 1), r -> {
            double[] out = new double[6 * 2];
            for (int row = 0; row < 6; row++) {
                out[row * 2] = r[0].v()[row * 4 + 3];
                out[row * 2 + 1] = r[0].v()[row * 4 + 1];
            }
            return new Ref(out, new int[] {2, 3, 2});
        }, a);
        Tensor b = randn(2, 1, 4), c = randn(2, 2, 4);
        check("concat axis 1", v -> Ops.concat(1, v[0], v[1], v[2]), r -> {
            double[] out = new double[2 * 6 * 4];
            for (int i = 0; i < 2; i++) {
                System.arraycopy(r[0].v(), i * 12, out, i * 24, 12);
                System.arraycopy(r[1].v(), i * 4, out, i * 24 + 12, 4);
                System.arraycopy(r[2].v(), i * 8, out, i * 24 + 16, 8);
            }
            return new Ref(out, new int[] {2, 6, 4});
        }, a, b, c);
        Tensor d = randn(1, 3, 4);
        check("concat axis 0", v -> Ops.concat(0, v[0], v[1]), r -> {
            double[] out = new double[3 * 3 * 4];
            System.arraycopy(r[0].v(), 0, out, 0, 24);
            System.arraycopy(r[1].v(), 0, out, 24, 12);
            return new Ref(out, new int[] {3, 3, 4});
        }, a, d);
        check("concat last axis", v -> Ops.concat(-1, v[0], v[1]), r -> {
            double[] out = new double[6 * 5];
            for (int row = 0; row < 6; row++) {
                System.arraycopy(r[0].v(), row * 4, out, row * 5, 4);
                out[row * 5 + 4] = r[1].v()[row];
            }
            return new Ref(out, new int[] {2, 3, 5});
        }, a, randn(2, 3, 1));
        Var x = Var.param(a);
        assertThrows(IllegalArgumentException.class, () -> Ops.gather(x, 1, 3));
        assertThrows(IllegalArgumentException.class, () -> Ops.gather(x, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> Ops.concat(1, x, Var.param(randn(2, 3, 5))));
        assertThrows(IllegalArgumentException.class, () -> Ops.concat(0));
    }

    @Test
    void softplusAndSigmoidStayFiniteFarOut() {
        Var x = Var.param(Tensor.of(new float[] {-200f, -90f, 90f, 200f}, 4));
        float[] sp = Ops.softplus(x).value().toArray();
        assertArrayEquals(new float[] {0f, 0f, 90f, 200f}, sp, 1e-6f);
        float[] sg = Ops.sigmoid(x).value().toArray();
        assertArrayEquals(new float[] {0f, 0f, 1f, 1f}, sg, 1e-6f);
    }

    @Test
    void reductions() {
        Tensor a = randn(3, 4, 5);
        for (int axis = -1; axis < 3; axis++) {
            int ax = axis;
            check("sum axis " + ax, v -> Ops.sum(v[0], ax), r -> r[0].sum(ax), a);
            check("mean axis " + ax, v -> Ops.mean(v[0], ax), r -> r[0].sum(ax).map(x -> x / a.dim(ax)), a);
            check("logsumexp axis " + ax, v -> Ops.logsumexp(v[0], ax), r -> r[0].logsumexp(ax), a);
        }
        check("sum all", v -> Ops.sum(v[0]), r -> new Ref(new double[] {r[0].total()}, new int[0]), a);
        check("mean all", v -> Ops.mean(v[0]), r -> new Ref(new double[] {r[0].total() / 60}, new int[0]), a);
        Tensor big = rand(80, 120, 2, 5);
        check("logsumexp large values", v -> Ops.logsumexp(v[0], 1), r -> r[0].logsumexp(1), big);
    }

    @Test
    void matmulInAllTranspositions() {
        int m = 5, k = 7, n = 3;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                Tensor a = ta ? randn(k, m) : randn(m, k);
                Tensor b = tb ? randn(n, k) : randn(k, n);
                check("matmul ta=" + ta + " tb=" + tb, v -> Ops.matmul(v[0], ta, v[1], tb), r -> r[0].matmul(ta, r[1], tb), a, b);
            }
        }
    }

    @Test
    void sliceOfTheLastAxis() {
        Tensor a = randn(2, 3, 6);
        check("slice [1, 4)", v -> Ops.slice(v[0], 1, 4), r -> {
            double[] out = new double[2 * 3 * 3];
            for (int row = 0; row < 6; row++) {
                for (int j = 0; j < 3; j++) {
                    out[row * 3 + j] = r[0].v()[row * 6 + 1 + j];
                }
            }
            return new Ref(out, new int[] {2, 3, 3});
        }, a);
        // two slices of one variable: each sends its gradient to its own places
        check("slices summed", v -> Ops.add(Ops.slice(v[0], 0, 2), Ops.slice(v[0], 4, 6)), r -> {
            double[] out = new double[6 * 2];
            for (int row = 0; row < 6; row++) {
                for (int j = 0; j < 2; j++) {
                    out[row * 2 + j] = r[0].v()[row * 6 + j] + r[0].v()[row * 6 + 4 + j];
                }
            }
            return new Ref(out, new int[] {2, 3, 2});
        }, a);
        Var x = Var.param(randn(2, 6));
        assertThrows(IllegalArgumentException.class, () -> Ops.slice(x, 4, 7));
        assertThrows(IllegalArgumentException.class, () -> Ops.slice(x, 3, 3));
    }

    @Test
    void linearOverLeadingDimensions() {
        Tensor x = randn(2, 3, 6), w = randn(4, 6), b = randn(4);
        check("linear", v -> Ops.linear(v[0], v[1], v[2]), r -> {
            Ref x2 = new Ref(r[0].v(), new int[] {6, 6});
            Ref y = x2.matmul(false, r[1], true).zip(r[2], Double::sum);
            return new Ref(y.v(), new int[] {2, 3, 4});
        }, x, w, b);
        check("linear without bias", v -> Ops.linear(v[0], v[1], null), r -> r[0].matmul(false, r[1], true), randn(5, 6), w);
    }

    @Test
    void reshapeIsAView() {
        check("reshape", v -> Ops.mul(Ops.reshape(v[0], 4, 3), Var.constant(Tensor.full(2f, 4, 3))),
                r -> new Ref(r[0].map(x -> 2 * x).v(), new int[] {4, 3}), randn(2, 6));
    }

    @Test
    void densities() {
        Tensor logits = rand(-4, 4, 2, 3, 5);
        Tensor x = rand(0, 1, 3, 5);
        check("bernoulliLogProb", v -> Ops.bernoulliLogProb(v[0], v[1]),
                r -> r[0].zip(r[1], (l, xx) -> xx * l - Math.log1p(Math.exp(l))).sum(-1), logits, x);
        Tensor z = randn(2, 3, 4), mu = randn(3, 4), ls = rand(-1, 1, 3, 4);
        check("gaussianLogProb", v -> Ops.gaussianLogProb(v[0], v[1], v[2]), r -> {
            Ref u = r[0].zip(r[1], (a, b) -> a - b).zip(r[2].map(s -> Math.exp(-s)), (a, b) -> a * b);
            return u.map(t -> -0.5 * t * t - 0.5 * LOG_2PI).zip(r[2], (a, s) -> a - s).sum(-1);
        }, z, mu, ls);
        check("standardNormalLogProb", v -> Ops.standardNormalLogProb(v[0]),
                r -> r[0].map(t -> -0.5 * t * t - 0.5 * LOG_2PI).sum(-1), randn(3, 4));
        check("gaussianKlToStandardNormal", v -> Ops.gaussianKlToStandardNormal(v[0], v[1]),
                r -> r[0].zip(r[1], (m, s) -> 0.5 * (m * m + Math.exp(2 * s) - 1) - s).sum(-1), mu, ls);
    }

    @Test
    void gradientsAccumulateUntilZeroed() {
        Var w = Var.param(Tensor.of(new float[] {1, 2, 3}, 3));
        Ops.sum(Ops.square(w)).backward();
        Ops.sum(Ops.square(w)).backward();
        assertArrayEquals(new float[] {4, 8, 12}, w.grad().toArray(), 1e-6f);
        w.zeroGrad();
        Ops.sum(w).backward();
        assertArrayEquals(new float[] {1, 1, 1}, w.grad().toArray(), 1e-6f);
    }

    @Test
    void sharedSubexpressionsSumTheirGradients() {
        Var a = Var.param(Tensor.of(new float[] {0.5f, -1f}, 2));
        Var t = Ops.tanh(a);
        Ops.sum(Ops.add(Ops.mul(t, t), t)).backward();
        for (int i = 0; i < 2; i++) {
            double y = Math.tanh(a.value().data()[i]);
            assertEquals((2 * y + 1) * (1 - y * y), a.grad().data()[i], 1e-6);
        }
    }

    @Test
    void noGradRecordsNothing() {
        Var a = Var.param(Tensor.of(new float[] {1, 2}, 2));
        try (NoGrad ignored = NoGrad.enter()) {
            Var y = Ops.sum(Ops.exp(a));
            assertTrue(!y.requiresGrad());
            assertEquals(Math.exp(1) + Math.exp(2), y.value().item(), 1e-5);
        }
        assertTrue(Ops.sum(Ops.exp(a)).requiresGrad());
    }
}
