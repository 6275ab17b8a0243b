package org.aiwae.bench;

import static org.aiwae.sampler.Layout.block;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.Key;
import org.aiwae.sampler.Diagnostics;
import org.aiwae.sampler.Hmc;
import org.aiwae.sampler.HmcKernel;
import org.aiwae.sampler.HmcState;
import org.aiwae.sampler.Layout;

/**
 * Purpose: the library's HMC on posteriordb's sblri-blr (the 6-parameter regression: {@code y ~ normal(X beta, sigma)}
 * with 5 coefficients and {@code sigma = exp(log_sigma)}, written with the ops as in PosteriorDbTest) against the
 * same kernel in PyTorch ({@code bench/python/sblri_torch.py}): 8 chains, a fixed step size and L leapfrog steps, a
 * diagonal inverse mass of the reference posterior's variances, float32 on the CPU. Starts at the reference means,
 * discards 200 transitions (also the JIT's warm-up), samples for a fixed period and prints transitions/s, chain
 * gradients/s, the smallest bulk ESS over the 6 coordinates and ESS/s.
 * Usage (from the repository root): {@code java --add-modules=jdk.incubator.vector -cp bench/target/benchmarks.jar
 * org.aiwae.bench.RegressionSampling [seconds] [step] [leapfrog]}.
 */
public final class RegressionSampling {
    private RegressionSampling() {}

    public static void main(String[] args) throws IOException {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 20;
        double step = args.length > 1 ? Double.parseDouble(args[1]) : 0.25;
        int leapfrog = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        String root = "sampler/src/test/resources/posteriordb/sblri-blr";
        ObjectMapper json = new ObjectMapper();
        JsonNode data = json.readTree(Path.of(root + ".data.json").toFile());
        JsonNode ref = json.readTree(Path.of(root + ".reference.json").toFile()).get("reference");
        int n = data.get("N").asInt(), d = data.get("D").asInt(), dim = d + 1, chains = 8;
        float[] x = new float[n * d], y = new float[n];
        for (int i = 0; i < n; i++) {
            y[i] = (float) data.get("y").get(i).asDouble();
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) data.get("X").get(i).get(j).asDouble();
            }
        }
        float[] start = new float[dim], inverseMass = new float[dim];
        for (int j = 0; j < d; j++) {
            JsonNode b = ref.get("beta[" + (j + 1) + "]");
            start[j] = (float) b.get("mean").asDouble();
            inverseMass[j] = (float) Math.pow(b.get("sd").asDouble(), 2);
        }
        JsonNode sigma = ref.get("sigma");
        start[d] = (float) Math.log(sigma.get("mean").asDouble());
        inverseMass[d] = (float) Math.pow(sigma.get("sd").asDouble() / sigma.get("mean").asDouble(), 2);

        Var design = Var.constant(Tensor.of(x, n, d)), yRow = Var.constant(Tensor.of(y, 1, n));
        Var zero = Var.constant(Tensor.zeros(1, 1)), logTen = Var.constant(Tensor.full((float) Math.log(10), 1, 1));
        Layout layout = Layout.of(block("beta", d), block("log_sigma", 1));
        HmcKernel kernel = Hmc.kernel(layout.logDensity(p -> {
            Var beta = p.get("beta"), logSigma = p.get("log_sigma");
            Var fit = Ops.gaussianLogProb(yRow, Ops.matmul(beta, false, design, true), logSigma);
            Var prior = Ops.add(Ops.gaussianLogProb(beta, zero, logTen), Ops.gaussianLogProb(Ops.exp(logSigma), zero, logTen));
            return Ops.add(Ops.add(fit, prior), Ops.sum(logSigma, 1));
        }), new Hmc.Options(step, inverseMass, leapfrog));

        Tensor init = Key.of(1).normal(Placement.HOST, chains, dim);
        for (int i = 0; i < init.size(); i++) {
            int j = i % dim;
            init.data()[i] = start[j] + 0.1f * init.data()[i] * (float) Math.sqrt(inverseMass[j]);
        }
        HmcState state = kernel.init(init);
        Key key = Key.of(2);
        int t = 0;
        for (; t < 200; t++) {
            state = kernel.step(key.fold(t), state).state();
        }
        List<float[]> draws = new ArrayList<>();
        double accepted = 0;
        long begin = System.nanoTime(), limit = (long) (seconds * 1e9);
        while (System.nanoTime() - begin < limit) {
            Hmc.Step s = kernel.step(key.fold(t++), state);
            state = s.state();
            draws.add(state.position().toArray());
            float[] a = s.info().accepted().toArray();
            for (float v : a) {
                accepted += v / a.length;
            }
        }
        double elapsed = (System.nanoTime() - begin) / 1e9;
        int length = draws.size();
        double minEss = Double.POSITIVE_INFINITY;
        for (int j = 0; j < dim; j++) {
            double[][] coordinate = new double[chains][length];
            for (int c = 0; c < chains; c++) {
                for (int s = 0; s < length; s++) {
                    coordinate[c][s] = draws.get(s)[c * dim + j];
                }
            }
            minEss = Math.min(minEss, Diagnostics.essBulk(coordinate));
        }
        System.out.printf("aiwae-sampler, step %s, L %d: %d transitions in %.1f s, %.1f transitions/s, %.0f chain gradients/s, acceptance %.3f,"
                        + " min bulk ESS %.0f, %.1f ESS/s%n", step, leapfrog, length, elapsed, length / elapsed,
                (double) chains * leapfrog * length / elapsed, accepted / length, minEss, minEss / elapsed);
    }
}
