package org.aiwae.engine.math;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.Backends;
import org.junit.jupiter.api.Test;

class GaussianTest {

    @Test
    void theNormalizerIsHalfOfDimsLogTwoPiToFloatRounding() {
        for (int dims : new int[] {1, 2, 3, 50, 784}) {
            double exact = dims * 0.5 * Math.log(2 * Math.PI);
            assertEquals(exact, Gaussian.logNormalizer(dims), 2 * Math.ulp((float) exact), "dims " + dims);
        }
    }

    @Test
    void theCpuDensitiesSubtractTheNormalizer() {
        // at the mean with unit variances every other term is zero: what is left is the one constant, bit for bit
        Backend cpu = Backends.cpu();
        for (int dims : new int[] {1, 3, 50}) {
            assertEquals(-Gaussian.logNormalizer(dims), cpu.standardNormalLogDensity(cpu.zeros(2, dims)).get(1));
            Tensor mu = Tensor.full(0.25f, 2, dims);
            assertEquals(-Gaussian.logNormalizer(dims), cpu.gaussianLogDensity(mu, mu, cpu.zeros(2, dims)).logDensity().get(0));
        }
    }
}
