package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.aiwae.kernels.OnEveryBackend;
import org.aiwae.kernels.TestBackends;

/**
 * {@code aiwae bench} on every backend: the model and the minibatches on the backend, the timed steps audited
 * (a device step that ran a CPU primitive would print one line instead of a figure, status 3), and on a device the
 * device work and host time per step beside examples/s.
 */
class BenchCliTest {

    @OnEveryBackend
    void benchReportsAFigureOnlyForWorkThatRanOnItsBackend(String name) {
        TestBackends.get(name); // skips (or, where AIWAE_REQUIRE_<NAME> is set, fails) without the device
        for (String method : new String[] {"iwae", "aiwae"}) {
            CliRun r = CliRun.of("bench", "--backend", name, "--method", method, "--samples", "2", "--temperatures", "2",
                    "--leapfrog", "1", "--batch-size", "4", "--hidden", "16", "--latent", "4", "--warmup", "0", "--seconds", "0");
            assertEquals(0, r.status(), method + " on " + name + ": " + r.err());
            assertTrue(r.out().matches("(?s)[0-9.]+ examples/s  \\(" + method + " K=2.*backend " + name + ".*"), r.out());
            Matcher work = Pattern.compile("device work per step: ([0-9.]+) ops \\(([0-9.]+) launches").matcher(r.out());
            if (name.equals("cpu")) {
                assertTrue(!work.find() && !r.out().contains("host time per step"), r.out());
            } else {
                assertTrue(work.find() && Double.parseDouble(work.group(2)) > 0, r.out());
                assertTrue(r.out().contains("host time per step: "), r.out());
            }
        }
    }
}
