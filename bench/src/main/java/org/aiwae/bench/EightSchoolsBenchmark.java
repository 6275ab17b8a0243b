package org.aiwae.bench;

import static org.aiwae.sampler.Layout.block;

import java.util.concurrent.TimeUnit;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.Key;
import org.aiwae.sampler.Hmc;
import org.aiwae.sampler.HmcKernel;
import org.aiwae.sampler.HmcState;
import org.aiwae.sampler.Layout;
import org.openjdk.jmh.annotations.*;

/**
 * Purpose: the library's HMC kernel on a small posterior, against the same kernel in PyTorch
 * ({@code bench/python/eight_schools_torch.py}): one transition of 8 chains on eight schools (non-centred, 10
 * parameters, the log density with autodiff over named blocks), L = 5 leapfrog steps of 0.35, identity mass, on
 * the CPU. One op = 8 chain transitions = 40 chain gradients (one batched gradient per leapfrog step).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class EightSchoolsBenchmark {
    private HmcKernel kernel;
    private HmcState state;
    private Key key;
    private int step;

    @Setup
    public void setup() {
        float[] y = {28, 8, -3, 7, -1, 1, 18, 12}, sigma = {15, 10, 16, 11, 9, 11, 10, 18}, logSigma = new float[8];
        for (int j = 0; j < 8; j++) {
            logSigma[j] = (float) Math.log(sigma[j]);
        }
        Var yRow = Var.constant(Tensor.of(y, 1, 8)), logSigmaRow = Var.constant(Tensor.of(logSigma, 1, 8));
        Var zero = Var.constant(Tensor.zeros(1, 1)), logFive = Var.constant(Tensor.full((float) Math.log(5), 1, 1));
        Layout layout = Layout.of(block("theta_trans", 8), block("mu", 1), block("log_tau", 1));
        kernel = Hmc.kernel(layout.logDensity(p -> {
            Var thetaTrans = p.get("theta_trans"), mu = p.get("mu"), logTau = p.get("log_tau");
            Var theta = Ops.add(Ops.mul(thetaTrans, Ops.exp(logTau)), mu);
            Var halfCauchy = Ops.sum(Ops.sub(logTau, Ops.log(Ops.add(Ops.square(Ops.mul(Ops.exp(logTau), 0.2f)), 1f))), 1);
            return Ops.add(Ops.add(Ops.standardNormalLogProb(thetaTrans), Ops.gaussianLogProb(yRow, theta, logSigmaRow)),
                    Ops.add(Ops.gaussianLogProb(mu, zero, logFive), halfCauchy));
        }), new Hmc.Options(0.35, 5));
        state = kernel.init(Key.of(1).normal(Placement.HOST, 8, 10));
        key = Key.of(2);
    }

    @Benchmark
    public HmcState transition() {
        state = kernel.step(key.fold(step++), state).state();
        return state;
    }
}
