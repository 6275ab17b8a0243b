package org.aiwae.sampler;

import static org.aiwae.sampler.Layout.block;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.Key;
import org.junit.jupiter.api.Test;

/**
 * Window-adapted HMC against posteriordb's reference posteriors (stan-dev/posteriordb; the models, data and
 * reference means and sds are in the test resources, posteriordb/). Each model's log density is written here in
 * the unconstrained space with the engine's ops, as Stan defines it (a {@code <lower=0>} parameter {@code s} as
 * {@code exp(u)} plus the log-Jacobian {@code u}). For every parameter: the posterior mean within 4 Monte Carlo
 * standard errors of the reference (the run's own {@code sd / sqrt(ESS)} plus the reference's {@code sd / 100}),
 * the sd within 10%, rank-normalised split R-hat below 1.01 and a bulk ESS of at least 400. The same check runs on
 * a Bayesian logistic regression whose reference this project made (test resources reference/: the data, the
 * reference and the script that made both by long random-walk Metropolis runs).
 */
class PosteriorDbTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHAINS = 8;

    private static JsonNode read(String file) {
        return readResource("/posteriordb/" + file);
    }

    private static JsonNode readResource(String path) {
        try (InputStream in = PosteriorDbTest.class.getResourceAsStream(path)) {
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }

    /** The logs of {@code values}, in double then rounded. */
    private static float[] logs(float[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) Math.log(values[i]);
        }
        return out;
    }

    /** A constant row {@code [1, n]}. */
    private static Var row(float... values) {
        return Var.constant(Tensor.of(values, 1, values.length));
    }

    /** {@code log N(x | mu, sigma)} summed over the last axis, every operand broadcasting; {@code logSigma} a variable. */
    private static Var normal(Var x, Var mu, Var logSigma) {
        return Ops.gaussianLogProb(x, mu, logSigma);
    }

    /** {@code log N(x | mu, sigma)} with constant mu and sigma, summed over the last axis. */
    private static Var normal(Var x, float mu, float sigma) {
        return Ops.gaussianLogProb(x, row(mu), row((float) Math.log(sigma)));
    }

    /** A half-Cauchy(0, scale) log density of {@code s = exp(u)} up to a constant, with the log-Jacobian {@code u}: [N]. */
    private static Var halfCauchyOfExp(Var u, float scale) {
        Var s = Ops.mul(Ops.exp(u), 1 / scale);
        return Ops.sum(Ops.sub(u, Ops.log(Ops.add(Ops.square(s), 1f))), 1);
    }

    /** What a check measured for one parameter. */
    record Row(String name, double mean, double ref, double mcse, double sdRatio, double rhat, double ess) {
        double z() {
            return Math.abs(mean - ref) / mcse;
        }
    }

    /** Warm-up and sampling lengths: Stan's 1000 + 1000, or less where long trajectories make each transition dear. */
    record Run(int leapfrog, int warmup, int draws) {}

    private static List<Row> check(String posterior, Layout layout, Function<Map<String, Var>, Var> logDensity, Run run,
                                   Map<String, ToDoubleFunction<double[]>> parameters) {
        return checkDensity(posterior, layout, layout.logDensity(logDensity), run, parameters);
    }

    private static List<Row> checkDensity(String posterior, Layout layout, LogDensity logDensity, Run run,
                                   Map<String, ToDoubleFunction<double[]>> parameters) {
        return checkDensity(posterior, read(posterior + ".reference.json").get("reference"), layout, logDensity, run, parameters);
    }

    private static List<Row> checkDensity(String posterior, JsonNode reference, Layout layout, LogDensity logDensity, Run run,
                                   Map<String, ToDoubleFunction<double[]>> parameters) {
        int leapfrog = run.leapfrog(), warmup = run.warmup(), draws = run.draws();
        long start = System.nanoTime();
        Key[] keys = Key.of(2021).split(3);
        Tensor init = keys[0].uniform(Placement.HOST, CHAINS, layout.dim());
        for (int i = 0; i < init.size(); i++) {
            init.data()[i] = 4 * init.data()[i] - 2; // Stan's inits: uniform(-2, 2) in the unconstrained space
        }
        WindowAdaptation.Result warm = new WindowAdaptation(logDensity, leapfrog, 0.8, 0.2).run(keys[1], init, warmup);
        Trace trace = warm.kernel().sample(keys[2], warm.state(), draws);
        double seconds = (System.nanoTime() - start) / 1e9;
        List<Row> rows = new ArrayList<>();
        Iterator<String> names = reference.fieldNames();
        double minEss = Double.POSITIVE_INFINITY;
        while (names.hasNext()) {
            String name = names.next();
            ToDoubleFunction<double[]> f = parameters.get(name);
            assertTrue(f != null, posterior + ": no function for reference parameter " + name);
            double[][] values = trace.derive(f);
            double refMean = reference.get(name).get("mean").asDouble(), refSd = reference.get(name).get("sd").asDouble();
            double sd = Diagnostics.sd(values), ess = Diagnostics.essBulk(values);
            double mcse = Diagnostics.mcseMean(values) + refSd / 100;
            Row r = new Row(name, Diagnostics.mean(values), refMean, mcse, sd / refSd, Diagnostics.rhat(values), ess);
            rows.add(r);
            minEss = Math.min(minEss, ess);
        }
        System.out.printf("%s: %d chains, %d warm-up + %d draws, L=%d, steps %s, acceptance %.3f, %d divergences, %.1f s, min bulk ESS %.0f"
                        + " (%.0f/s)%n", posterior, CHAINS, warmup, draws, leapfrog, java.util.Arrays.toString(warm.kernel().options().stepSizes()),
                trace.meanAcceptance(), trace.divergences(), seconds, minEss, minEss / seconds);
        for (Row r : rows) {
            System.out.printf("  %-10s mean %.5g ref %.5g |d|/mcse %.2f sd ratio %.3f rhat %.4f ess %.0f%n", r.name(), r.mean(), r.ref(),
                    r.z(), r.sdRatio(), r.rhat(), r.ess());
        }
        for (Row r : rows) {
            assertTrue(r.z() < 4, posterior + " " + r + ": mean more than 4 MCSE from the reference");
            assertTrue(Math.abs(r.sdRatio() - 1) < 0.1, posterior + " " + r + ": sd more than 10% off");
            assertTrue(r.rhat() < 1.01, posterior + " " + r + ": R-hat");
            assertTrue(r.ess() > 400, posterior + " " + r + ": bulk ESS");
        }
        return rows;
    }

    /** Parameters read straight from coordinates, Stan-named ({@code beta[1]}, {@code sigma}), with {@code transforms} for the rest. */
    private static Map<String, ToDoubleFunction<double[]>> coordinates(Layout layout, Map<String, ToDoubleFunction<double[]>> transforms) {
        Map<String, ToDoubleFunction<double[]>> out = new LinkedHashMap<>();
        List<String> names = layout.coordinates();
        for (int j = 0; j < names.size(); j++) {
            int jj = j;
            out.put(names.get(j), z -> z[jj]);
        }
        out.putAll(transforms);
        return out;
    }

    @Test
    void eightSchoolsNoncentered() {
        JsonNode data = read("eight_schools-eight_schools_noncentered.data.json");
        float[] y = floats(data.get("y")), logSigma = logs(floats(data.get("sigma")));
        Layout layout = Layout.of(block("theta_trans", 8), block("mu", 1), block("log_tau", 1));
        Map<String, ToDoubleFunction<double[]>> params = coordinates(layout, Map.of("tau", z -> Math.exp(z[9])));
        for (int j = 0; j < 8; j++) {
            int jj = j;
            params.put("theta[" + (j + 1) + "]", z -> z[jj] * Math.exp(z[9]) + z[8]);
        }
        check("eight_schools-eight_schools_noncentered", layout, p -> {
            Var thetaTrans = p.get("theta_trans"), mu = p.get("mu"), logTau = p.get("log_tau");
            Var theta = Ops.add(Ops.mul(thetaTrans, Ops.exp(logTau)), mu);
            return Ops.add(Ops.add(Ops.standardNormalLogProb(thetaTrans), normal(row(y), theta, row(logSigma))),
                    Ops.add(normal(mu, 0, 5), halfCauchyOfExp(logTau, 5)));
        }, new Run(5, 1000, 2000), params);
    }

    /**
     * Bayesian logistic regression on a synthetic data set (N = 100, 3 predictors) against 12.8 million draws of
     * random-walk Metropolis in double (test resource reference/logistic.py wrote the data, the reference and how it
     * was made): {@code y ~ bernoulli_logit(alpha + x beta)}, {@code alpha ~ normal(0, 5)},
     * {@code beta_j ~ student_t(3, 0, 2.5)}; the coefficients side by side with {@link Ops#concat}, the Student-t's
     * {@code -2 log1p(beta^2 / (3 2.5^2))} with {@link Ops#log1p}.
     */
    @Test
    void logisticRegression() {
        JsonNode data = readResource("/reference/logistic.data.json");
        int n = data.get("N").asInt(), predictors = data.get("P").asInt();
        float[] y = floats(data.get("y")), x = new float[n * (predictors + 1)];
        for (int i = 0; i < n; i++) {
            x[i * (predictors + 1)] = 1;
            for (int j = 0; j < predictors; j++) {
                x[i * (predictors + 1) + 1 + j] = (float) data.get("X").get(i).get(j).asDouble();
            }
        }
        Var design = Var.constant(Tensor.of(x, n, predictors + 1)), labels = row(y);
        Layout layout = Layout.of(block("alpha", 1), block("beta", predictors));
        LogDensity logDensity = layout.logDensity(p -> {
            Var alpha = p.get("alpha"), beta = p.get("beta");
            Var logits = Ops.matmul(Ops.concat(1, alpha, beta), false, design, true); // [N, n]
            Var studentT = Ops.mul(Ops.sum(Ops.log1p(Ops.mul(Ops.square(beta), 1 / (3 * 2.5f * 2.5f))), 1), -2f);
            return Ops.add(Ops.bernoulliLogProb(logits, labels), Ops.add(normal(alpha, 0, 5), studentT));
        });
        checkDensity("logistic", readResource("/reference/logistic.reference.json").get("reference"), layout, logDensity,
                new Run(5, 300, 500), coordinates(layout, Map.of()));
    }

    /** {@code y ~ normal(b1 + b2 x, sigma)} over the data, {@code beta [N, 2]}, {@code log sigma [N, 1]}: [N]. */
    private static Var simpleRegression(Var beta, Var logSigma, float[] x, float[] y) {
        Var mu = Ops.add(Ops.slice(beta, 0, 1), Ops.mul(Ops.slice(beta, 1, 2), row(x)));
        return normal(row(y), mu, logSigma);
    }

    @Test
    void kidiqKidscoreMomiq() {
        JsonNode data = read("kidiq-kidscore_momiq.data.json");
        float[] kid = floats(data.get("kid_score")), iq = floats(data.get("mom_iq"));
        Layout layout = Layout.of(block("beta", 2), block("log_sigma", 1));
        check("kidiq-kidscore_momiq", layout, p -> Ops.add(simpleRegression(p.get("beta"), p.get("log_sigma"), iq, kid),
                halfCauchyOfExp(p.get("log_sigma"), 2.5f)), new Run(32, 500, 500), coordinates(layout, Map.of("sigma", z -> Math.exp(z[2]))));
    }

    @Test
    void earningsLogearnHeight() {
        JsonNode data = read("earnings-logearn_height.data.json");
        float[] logEarn = logs(floats(data.get("earn"))), height = floats(data.get("height"));
        Layout layout = Layout.of(block("beta", 2), block("log_sigma", 1));
        // flat priors on beta and sigma > 0: the likelihood and the log-Jacobian
        check("earnings-logearn_height", layout, p -> Ops.add(simpleRegression(p.get("beta"), p.get("log_sigma"), height, logEarn),
                Ops.sum(p.get("log_sigma"), 1)), new Run(40, 500, 1000), coordinates(layout, Map.of("sigma", z -> Math.exp(z[2]))));
    }

    @Test
    void sblriBlr() {
        JsonNode data = read("sblri-blr.data.json");
        int n = data.get("N").asInt(), d = data.get("D").asInt();
        float[] y = floats(data.get("y")), x = new float[n * d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) data.get("X").get(i).get(j).asDouble();
            }
        }
        Var design = Var.constant(Tensor.of(x, n, d));
        Layout layout = Layout.of(block("beta", d), block("log_sigma", 1));
        check("sblri-blr", layout, p -> {
            Var beta = p.get("beta"), logSigma = p.get("log_sigma");
            Var fit = normal(row(y), Ops.matmul(beta, false, design, true), logSigma);
            return Ops.add(Ops.add(fit, normal(beta, 0, 10)), Ops.add(normal(Ops.exp(logSigma), 0, 10), Ops.sum(logSigma, 1)));
        }, new Run(8, 1000, 1000), coordinates(layout, Map.of("sigma", z -> Math.exp(z[d]))));
    }

    @Test
    void arK() {
        JsonNode data = read("arK-arK.data.json");
        int k = data.get("K").asInt(), t = data.get("T").asInt();
        float[] y = floats(data.get("y"));
        float[] lags = new float[k * (t - k)], tail = new float[t - k];
        for (int s = k; s < t; s++) {
            tail[s - k] = y[s];
            for (int j = 1; j <= k; j++) {
                lags[(j - 1) * (t - k) + s - k] = y[s - j];
            }
        }
        Var lagged = Var.constant(Tensor.of(lags, k, t - k));
        Layout layout = Layout.of(block("alpha", 1), block("beta", k), block("log_sigma", 1));
        check("arK-arK", layout, p -> {
            Var alpha = p.get("alpha"), beta = p.get("beta"), logSigma = p.get("log_sigma");
            Var mu = Ops.add(alpha, Ops.matmul(beta, lagged));
            return Ops.add(Ops.add(normal(row(tail), mu, logSigma), Ops.add(normal(alpha, 0, 10), normal(beta, 0, 10))),
                    halfCauchyOfExp(logSigma, 2.5f));
        }, new Run(16, 1000, 1000), coordinates(layout, Map.of("sigma", z -> Math.exp(z[k + 1]))));
    }

    /**
     * GARCH(1,1) with the engine's ops: mu; alpha0 = exp(a0) > 0; alpha1 = sigmoid(a1) in (0, 1);
     * beta1 = (1 - alpha1) sigmoid(b1) in (0, 1 - alpha1), with their log-Jacobians; the recursion runs on the
     * variances {@code v_t = sigma_t^2}: {@code sum_t log N(y_t | mu, sqrt(v_t))} up to a constant.
     */
    private static Var garchWithOps(Map<String, Var> p, float[] y, float sigma1) {
        Var mu = p.get("mu"), a0 = p.get("a0"), a1 = p.get("a1"), b1 = p.get("b1");
        Var alpha0 = Ops.exp(a0), alpha1 = Ops.sigmoid(a1), beta1 = Ops.mul(Ops.sigmoid(Ops.neg(a1)), Ops.sigmoid(b1));
        // log-Jacobians: a0; log alpha1 (1 - alpha1) = -softplus(-a1) - softplus(a1);
        // log (1 - alpha1) s(b1) (1 - s(b1)) = -softplus(a1) - softplus(-b1) - softplus(b1)
        Var jacobian = Ops.sub(Ops.sub(a0, Ops.softplus(Ops.neg(a1))), Ops.mul(Ops.softplus(a1), 2f));
        jacobian = Ops.sub(jacobian, Ops.add(Ops.softplus(Ops.neg(b1)), Ops.softplus(b1)));
        Var residual2 = Ops.square(Ops.sub(row(y), mu)); // [N, T]
        Var v = Var.constant(Tensor.full(sigma1 * sigma1, 1, 1));
        Var logLik = null;
        for (int t = 0; t < y.length; t++) {
            if (t > 0) {
                v = Ops.add(Ops.add(alpha0, Ops.mul(alpha1, Ops.slice(residual2, t - 1, t))), Ops.mul(beta1, v));
            }
            Var term = Ops.add(Ops.mul(Ops.log(v), -0.5f), Ops.mul(Ops.div(Ops.slice(residual2, t, t + 1), v), -0.5f));
            logLik = logLik == null ? term : Ops.add(logLik, term);
        }
        return Ops.sum(Ops.add(logLik, jacobian), 1);
    }

    /**
     * The same log density by hand, in double, its gradient by a reverse pass over the recursion: with the ops the
     * 200 sequential steps are some 1,600 graph nodes per evaluation, which the sampler then spends its time on.
     * A hand-written {@link LogDensity} is a lambda like any other; the test checks it against {@link #garchWithOps}.
     */
    private static LogDensity garchByHand(float[] y, float sigma1) {
        int n = y.length;
        return z -> {
            int chains = z.dim(0);
            float[] in = z.toArray(), value = new float[chains], grad = new float[chains * 4];
            double[] v = new double[n], r = new double[n], gv = new double[n];
            for (int c = 0; c < chains; c++) {
                double mu = in[4 * c], a0 = in[4 * c + 1], a1 = in[4 * c + 2], b1 = in[4 * c + 3];
                double alpha0 = Math.exp(a0), s1 = 1 / (1 + Math.exp(-a1)), sb = 1 / (1 + Math.exp(-b1));
                double alpha1 = s1, beta1 = (1 - s1) * sb;
                double lp = a0 - softplus(-a1) - 2 * softplus(a1) - softplus(-b1) - softplus(b1);
                for (int t = 0; t < n; t++) {
                    r[t] = y[t] - mu;
                    v[t] = t == 0 ? (double) sigma1 * sigma1 : alpha0 + alpha1 * r[t - 1] * r[t - 1] + beta1 * v[t - 1];
                    lp += -0.5 * Math.log(v[t]) - 0.5 * r[t] * r[t] / v[t];
                }
                double gMu = 0, gAlpha0 = 0, gAlpha1 = 0, gBeta1 = 0, carry = 0;
                for (int t = n - 1; t >= 0; t--) {
                    gv[t] = -0.5 / v[t] + 0.5 * r[t] * r[t] / (v[t] * v[t]) + carry;
                    gMu += r[t] / v[t];
                    if (t > 0) {
                        gAlpha0 += gv[t];
                        gAlpha1 += gv[t] * r[t - 1] * r[t - 1];
                        gBeta1 += gv[t] * v[t - 1];
                        gMu -= gv[t] * alpha1 * 2 * r[t - 1];
                        carry = gv[t] * beta1;
                    }
                }
                value[c] = (float) lp;
                grad[4 * c] = (float) gMu;
                grad[4 * c + 1] = (float) (gAlpha0 * alpha0 + 1);
                grad[4 * c + 2] = (float) (gAlpha1 * s1 * (1 - s1) - gBeta1 * s1 * (1 - s1) * sb + 1 - 3 * s1);
                grad[4 * c + 3] = (float) (gBeta1 * (1 - s1) * sb * (1 - sb) + 1 - 2 * sb);
            }
            return new LogDensity.Value(Tensor.of(value, chains), Tensor.of(grad, chains, 4));
        };
    }

    private static double softplus(double x) {
        return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    @Test
    void garch11() {
        JsonNode data = read("garch-garch11.data.json");
        float[] y = floats(data.get("y"));
        float sigma1 = (float) data.get("sigma1").asDouble();
        Layout layout = Layout.of(block("mu", 1), block("a0", 1), block("a1", 1), block("b1", 1));
        LogDensity byHand = garchByHand(y, sigma1), withOps = layout.logDensity(p -> garchWithOps(p, y, sigma1));
        Tensor points = Key.of(5).uniform(Placement.HOST, 6, 4);
        for (int i = 0; i < points.size(); i++) {
            points.data()[i] = 4 * points.data()[i] - 2 + (i % 4 == 0 ? 5 : 0); // mu near the series' level
        }
        LogDensity.Value a = byHand.at(points), b = withOps.at(points);
        float[] va = a.logDensity().toArray(), vb = b.logDensity().toArray(), ga = a.gradient().toArray(), gb = b.gradient().toArray();
        for (int i = 0; i < va.length; i++) {
            assertEquals(vb[i], va[i], 1e-4 * Math.abs(vb[i]), "log density by hand and with ops, chain " + i);
        }
        for (int i = 0; i < ga.length; i++) {
            assertEquals(gb[i], ga[i], 1e-3 * Math.max(1, Math.abs(gb[i])), "gradient by hand and with ops, element " + i);
        }
        Map<String, ToDoubleFunction<double[]>> params = new LinkedHashMap<>();
        params.put("mu", z -> z[0]);
        params.put("alpha0", z -> Math.exp(z[1]));
        params.put("alpha1", z -> 1 / (1 + Math.exp(-z[2])));
        params.put("beta1", z -> (1 - 1 / (1 + Math.exp(-z[2]))) / (1 + Math.exp(-z[3])));
        checkDensity("garch-garch11", layout, byHand, new Run(6, 1000, 1000), params);
    }
}
