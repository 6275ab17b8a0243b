package demo;

import static org.aiwae.sampler.Layout.block;

import java.util.List;
import org.aiwae.engine.Placement;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.random.Key;
import org.aiwae.sampler.Diagnostics;
import org.aiwae.sampler.Layout;
import org.aiwae.sampler.LogDensity;
import org.aiwae.sampler.Trace;
import org.aiwae.sampler.WindowAdaptation;

/** Eight schools (non-centred) with window-adapted HMC: warm-up, sampling and diagnostics, as docs/api.md shows. */
public final class EightSchools {
    public static void main(String[] args) {
        // the data, as constant rows [1, 8]
        Var y = Var.constant(Tensor.of(new float[] {28, 8, -3, 7, -1, 1, 18, 12}, 1, 8));
        float[] sigma = {15, 10, 16, 11, 9, 11, 10, 18}, logSigma = new float[8];
        for (int j = 0; j < 8; j++) {
            logSigma[j] = (float) Math.log(sigma[j]);
        }
        Var logSigmaRow = Var.constant(Tensor.of(logSigma, 1, 8));
        Var zero = Var.constant(Tensor.zeros(1, 1)), logFive = Var.constant(Tensor.full((float) Math.log(5), 1, 1));

        // the parameters: named blocks over one position [N, 10] for N chains; tau > 0 as exp(log_tau)
        Layout layout = Layout.of(block("theta_trans", 8), block("mu", 1), block("log_tau", 1));
        LogDensity posterior = layout.logDensity(p -> {
            Var thetaTrans = p.get("theta_trans"), mu = p.get("mu"), logTau = p.get("log_tau");
            Var theta = Ops.add(Ops.mul(thetaTrans, Ops.exp(logTau)), mu);
            Var tauOverFive = Ops.mul(Ops.exp(logTau), 0.2f);
            Var halfCauchy = Ops.sum(Ops.sub(logTau, Ops.log(Ops.add(Ops.square(tauOverFive), 1f))), 1); // + log-Jacobian
            return Ops.add(Ops.add(Ops.standardNormalLogProb(thetaTrans),        // theta_trans ~ normal(0, 1)
                            Ops.gaussianLogProb(y, theta, logSigmaRow)),         // y ~ normal(theta, sigma)
                    Ops.add(Ops.gaussianLogProb(mu, zero, logFive), halfCauchy)); // mu ~ normal(0, 5), tau ~ cauchy(0, 5)
        });

        // 4 chains from uniform(-2, 2), Stan's warm-up (1000 steps, 5 leapfrog steps, target acceptance 0.8), 1000 draws
        Key[] keys = Key.of(42).split(3);
        Tensor init = keys[0].uniform(Placement.HOST, 4, layout.dim());
        for (int i = 0; i < init.size(); i++) {
            init.data()[i] = 4 * init.data()[i] - 2;
        }
        WindowAdaptation.Result warm = new WindowAdaptation(posterior, 5, 0.8, 0.2).run(keys[1], init, 1000);
        Trace trace = warm.kernel().sample(keys[2], warm.state(), 1000);

        List<String> names = layout.coordinates();
        System.out.printf("%-14s %8s %8s %8s %7s%n", "", "mean", "sd", "ess", "rhat");
        for (int j = 0; j < trace.dim(); j++) {
            System.out.printf("%-14s %8.3f %8.3f %8.0f %7.4f%n", names.get(j), trace.mean(j), trace.sd(j), trace.essBulk(j), trace.rhat(j));
        }
        double[][] tau = trace.derive(z -> Math.exp(z[9]));
        System.out.printf("tau %.3f, ESS %.0f, R-hat %.4f%n", Diagnostics.mean(tau), Diagnostics.essBulk(tau), Diagnostics.rhat(tau));
        System.out.printf("%-14s %8.3f %8.3f %8.0f %7.4f%n", "tau", Diagnostics.mean(tau), Diagnostics.sd(tau), Diagnostics.essBulk(tau),
                Diagnostics.rhat(tau));
        System.out.printf("acceptance %.3f, %d divergences%n", trace.meanAcceptance(), trace.divergences());
        // posteriordb's reference: mu 4.41 (sd 3.29), tau 3.60 (sd 3.22)
        if (Diagnostics.rhat(tau) > 1.01 || Math.abs(trace.mean(8) - 4.41) > 0.5) {
            throw new IllegalStateException("the chains did not reach the reference posterior");
        }
    }
}
