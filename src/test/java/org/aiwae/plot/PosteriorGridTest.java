package org.aiwae.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.model.LatentVariableModel;
import org.aiwae.model.Posterior;
import org.junit.jupiter.api.Test;

/** The posterior grid at the largest documented panel is computed in bounded tiles and is still the right density. */
class PosteriorGridTest {
    /** p(x, z) = N(z; (1, -2), diag(1, 4)) for every x; remembers the most grid points it was asked for at once. */
    static final class Gaussian implements LatentVariableModel {
        int largestCall;

        @Override
        public int latentDim() {
            return 2;
        }

        @Override
        public int dataDim() {
            return 1;
        }

        @Override
        public List<Var> generativeParameters() {
            return List.of();
        }

        @Override
        public List<Var> inferenceParameters() {
            return List.of();
        }

        static double log(double z1, double z2) {
            return -0.5 * ((z1 - 1) * (z1 - 1) + (z2 + 2) * (z2 + 2) / 4);
        }

        @Override
        public Var logJoint(Var x, Var z) {
            Tensor zt = z.value();
            int n = zt.dim(0);
            largestCall = Math.max(largestCall, n);
            float[] out = new float[n];
            for (int i = 0; i < n; i++) {
                out[i] = (float) log(zt.get(i, 0, 0), zt.get(i, 0, 1));
            }
            return Var.constant(Tensor.of(out, n, 1));
        }

        @Override
        public Posterior posterior(Var x) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Map<String, Var> namedParameters() {
            return Map.of();
        }
    }

    @Test
    void aPanelOf1024IsEvaluatedInTilesAndNormalised() {
        Gaussian model = new Gaussian();
        PosteriorGrid g = PosteriorGrid.of(model, Tensor.zeros(1, 1), 1024);
        assertTrue(model.largestCall <= PosteriorGrid.CHUNK, "asked for " + model.largestCall + " points at once");
        assertEquals(1024 * 1024, g.logJoint().length);
        double[] w = g.weights();
        double sum = 0, m1 = 0, m2 = 0;
        for (int r = 0; r < 1024; r++) {
            for (int c = 0; c < 1024; c++) {
                double p = w[r * 1024 + c];
                sum += p;
                m1 += p * g.z1()[c];
                m2 += p * g.z2()[r];
            }
        }
        assertEquals(1, sum, 1e-9);
        assertEquals(1, m1, 0.01);
        assertEquals(-2, m2, 0.01);
        for (int k : new int[] {0, 4095, 4096, 777_777, 1024 * 1024 - 1}) { // tile edges and the last point
            int r = k / 1024, c = k % 1024;
            assertEquals(Gaussian.log((float) g.z1()[c], (float) g.z2()[r]), g.logJoint()[k], 1e-4, "point " + k);
        }
    }
}
