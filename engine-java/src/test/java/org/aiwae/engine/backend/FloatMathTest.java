package org.aiwae.engine.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * {@link FloatMath}: accuracy against {@code StrictMath}, special values, and the same bits from the vector
 * and scalar forms and from the interpreter, C1 and C2.
 */
class FloatMathTest {
    private static final String[] NAMES = {"exp", "log", "log1p", "tanh", "sigmoid", "softplus"};
    /** The error bounds this class promises, in ulp of the float result (measured maximum over 70 M inputs). */
    private static final int[] MAX_ULP = {1, 1, 1, 1, 2, 2};
    private static final List<DoubleUnaryOperator> REFERENCE = List.of(StrictMath::exp, StrictMath::log,
            StrictMath::log1p, StrictMath::tanh, UnaryOp.SIGMOID::apply, UnaryOp.SOFTPLUS::apply);

    /** Distance in representable floats (0 for two NaNs, huge for one). */
    private static long ulps(float a, float b) {
        if (Float.isNaN(a) || Float.isNaN(b)) {
            return Float.isNaN(a) && Float.isNaN(b) ? 0 : Long.MAX_VALUE;
        }
        return Math.abs(ordinal(a) - ordinal(b));
    }

    private static long ordinal(float f) {
        int b = Float.floatToRawIntBits(f);
        return b >= 0 ? b : (long) Integer.MIN_VALUE - b;
    }

    @Test
    void withinStatedUlpsOfStrictMathOverTheWholeFloatRange() {
        float[] x = FloatMathDigest.inputs(1 << 20);
        for (int f = 0; f < NAMES.length; f++) {
            long worst = 0;
            float at = 0;
            for (float v : x) {
                float want = (float) REFERENCE.get(f).applyAsDouble(v);
                long u = ulps(FloatMathDigest.scalar(f, v), want);
                if (u > worst) {
                    worst = u;
                    at = v;
                }
            }
            assertTrue(worst <= MAX_ULP[f], NAMES[f] + ": " + worst + " ulp at x = " + at + " (bound " + MAX_ULP[f] + ")");
        }
    }

    @Test
    void specialValues() {
        float inf = Float.POSITIVE_INFINITY, nan = Float.NaN;
        assertBits(1f, FloatMath.exp(0f));
        assertBits(1f, FloatMath.exp(-0f));
        assertBits(inf, FloatMath.exp(inf));
        assertBits(0f, FloatMath.exp(-inf));
        assertBits(inf, FloatMath.exp(89f));
        assertBits(0f, FloatMath.exp(-104f));
        assertBits(Float.MIN_VALUE, FloatMath.exp(-103.2789f));
        assertBits((float) StrictMath.exp(88.72283f), FloatMath.exp(88.72283f));
        assertBits(0f, FloatMath.log(1f));
        assertBits(-inf, FloatMath.log(0f));
        assertBits(-inf, FloatMath.log(-0f));
        assertBits(inf, FloatMath.log(inf));
        assertBits(nan, FloatMath.log(-1f));
        assertBits(nan, FloatMath.log(-inf));
        assertBits((float) StrictMath.log(Float.MIN_VALUE), FloatMath.log(Float.MIN_VALUE));
        assertBits(0f, FloatMath.log1p(0f));
        assertBits(-0f, FloatMath.log1p(-0f));
        assertBits(-inf, FloatMath.log1p(-1f));
        assertBits(nan, FloatMath.log1p(-1.5f));
        assertBits(inf, FloatMath.log1p(inf));
        assertBits(Float.MIN_VALUE, FloatMath.log1p(Float.MIN_VALUE));
        assertBits(1e-30f, FloatMath.log1p(1e-30f));
        assertBits(0f, FloatMath.tanh(0f));
        assertBits(-0f, FloatMath.tanh(-0f));
        assertBits(1f, FloatMath.tanh(inf));
        assertBits(-1f, FloatMath.tanh(-inf));
        assertBits(1e-30f, FloatMath.tanh(1e-30f));
        assertBits(0.5f, FloatMath.sigmoid(0f));
        assertBits(1f, FloatMath.sigmoid(inf));
        assertBits(0f, FloatMath.sigmoid(-inf));
        assertBits(1f, FloatMath.sigmoid(100f));
        assertBits(inf, FloatMath.softplus(inf));
        assertBits(0f, FloatMath.softplus(-inf));
        assertBits(1000f, FloatMath.softplus(1000f));
        assertBits((float) StrictMath.log(2), FloatMath.softplus(0f));
        for (int f = 0; f < NAMES.length; f++) {
            assertTrue(Float.isNaN(FloatMathDigest.scalar(f, nan)), NAMES[f] + "(NaN)");
        }
    }

    private static void assertBits(float want, float got) {
        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got), "want " + want + ", got " + got);
    }

    @Test
    void vectorAndScalarFormsGiveIdenticalBits() {
        float[] x = FloatMathDigest.inputs(1 << 18);
        float[] y = new float[x.length];
        for (int round = 0; round < 3; round++) { // later rounds run compiled code
            for (int f = 0; f < NAMES.length; f++) {
                FloatMathDigest.vector(f, x, y);
                for (int i = 0; i < x.length; i++) {
                    float s = FloatMathDigest.scalar(f, x[i]);
                    if (Float.floatToIntBits(s) != Float.floatToIntBits(y[i])) {
                        throw new AssertionError(NAMES[f] + "(" + x[i] + "): vector " + y[i] + ", scalar " + s);
                    }
                }
            }
        }
    }

    @Test
    void theBackendsMapsAreTheseFunctions() {
        float[] x = FloatMathDigest.inputs(5000);
        float[] y = new float[x.length + 3];
        UnaryOp[] ops = {UnaryOp.EXP, UnaryOp.LOG, null, UnaryOp.TANH, UnaryOp.SIGMOID, UnaryOp.SOFTPLUS};
        for (int f = 0; f < ops.length; f++) {
            if (ops[f] == null) {
                continue;
            }
            VectorMath.map(ops[f], x, 0, y, 3, x.length);
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToIntBits(FloatMathDigest.scalar(f, x[i])), Float.floatToIntBits(y[3 + i]),
                        NAMES[f] + "(" + x[i] + ")");
            }
        }
    }

    @Test
    void sumFollowsItsFixedOrderForEveryOffsetAndLength() {
        Random rnd = new Random(5);
        float[] x = new float[5000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian() * 3));
        }
        for (int n : new int[] {0, 1, 7, 15, 16, 17, 33, 784, 1023, 1024, 1025, 2047, 4000}) {
            for (int off = 0; off < 9; off++) {
                double got = VectorMath.sum(x, off, n);
                assertEquals(Double.doubleToLongBits(VectorMath.sumScalar(x, off, n)), Double.doubleToLongBits(got),
                        "n=" + n + " off=" + off);
                double exact = 0, abs = 0;
                for (int i = 0; i < n; i++) {
                    exact += x[off + i];
                    abs += Math.abs(x[off + i]);
                }
                assertEquals(exact, got, 1e-6 * abs + 1e-30, "n=" + n + " off=" + off);
            }
        }
    }

    /**
     * The same digest of every function's bits (and of {@link VectorMath#sum}) in the interpreter, with C1 only,
     * with C2 after warm-up, and with 4-lane vectors.
     */
    @Test
    void sameBitsInTheInterpreterC1AndC2() throws Exception {
        int n = 4000;
        String here = FloatMathDigest.digest(FloatMathDigest.inputs(n), 0);
        for (List<String> flags : List.of(List.of("-Xint"), List.of("-XX:TieredStopAtLevel=1"),
                List.of("-XX:-TieredCompilation"), List.of("-XX:-TieredCompilation", "-XX:MaxVectorSize=16"))) {
            int warmup = flags.contains("-XX:-TieredCompilation") ? 30 : 0;
            assertEquals(here, child(flags, warmup, n), "digest with " + flags);
        }
    }

    private static String child(List<String> flags, int warmup, int n) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector"));
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), FloatMathDigest.class.getName(),
                Integer.toString(warmup), Integer.toString(n)));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("_JAVA_OPTIONS");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(flags + ": no answer in 120 s");
        }
        assertEquals(0, p.exitValue(), flags + ": " + out);
        return out.lines().filter(l -> l.matches("[0-9a-f]{64}")).findFirst().orElseThrow(() -> new AssertionError(out));
    }
}
