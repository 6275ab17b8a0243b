package org.aiwae.engine.random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PhiloxTest {

    /** The three philox4x32-10 known-answer vectors published with Random123 (kat_vectors). */
    @Test
    void matchesPublishedKnownAnswers() {
        int[][][] kat = {
            {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
            {{-1, -1, -1, -1}, {-1, -1}, {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
            {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
             {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
        };
        for (int[][] v : kat) {
            int[] out = new int[4];
            Philox.block(v[0][0], v[0][1], v[0][2], v[0][3], v[1][0], v[1][1], out, 0);
            assertArrayEquals(v[2], out);
        }
    }

    @Test
    void streamIsReproducibleAndPositionIsItsState() {
        RandomStream a = new RandomStream(42);
        float[] first = new float[10];
        a.normal(first, 0, 10);
        assertEquals(3, a.position(), "10 values use ceil(10/4) blocks");
        float[] second = new float[7];
        a.uniform(second, 0, 7);

        RandomStream b = new RandomStream(42, 0, 3);
        float[] again = new float[7];
        b.uniform(again, 0, 7);
        assertArrayEquals(second, again);

        RandomStream c = new RandomStream(42);
        float[] firstAgain = new float[10];
        c.normal(firstAgain, 0, 10);
        assertArrayEquals(first, firstAgain);
    }

    @Test
    void streamsOfOtherIdsAndSeedsDiffer() {
        RandomStream base = new RandomStream(1);
        float[] x = base.uniform(8).toArray();
        float[] y = new RandomStream(1, 1, 0).uniform(8).toArray();
        float[] z = new RandomStream(2).uniform(8).toArray();
        assertFalse(java.util.Arrays.equals(x, y));
        assertFalse(java.util.Arrays.equals(x, z));
    }

    @Test
    void largeParallelFillEqualsBlockByBlockFill() {
        RandomStream whole = new RandomStream(9);
        float[] all = new float[100_003];
        whole.normal(all, 0, all.length);
        RandomStream pieces = new RandomStream(9);
        float[] part = new float[4];
        for (int b = 0; b < 100; b++) {
            pieces.normal(part, 0, 4);
            for (int j = 0; j < 4; j++) {
                assertEquals(all[b * 4 + j], part[j]);
            }
        }
    }

    @Test
    void uniformsAndNormalsHaveTheRightMoments() {
        int n = 400_000;
        float[] u = new RandomStream(3).uniform(n).toArray();
        float[] g = new RandomStream(4).normal(n).toArray();
        double su = 0, su2 = 0, sg = 0, sg2 = 0, sg4 = 0;
        for (int i = 0; i < n; i++) {
            assertTrue(u[i] >= 0 && u[i] < 1);
            assertTrue(Float.isFinite(g[i]));
            su += u[i];
            su2 += u[i] * u[i];
            sg += g[i];
            sg2 += g[i] * g[i];
            sg4 += (double) g[i] * g[i] * g[i] * g[i];
        }
        // standard errors: mean of U ~ 0.00046, mean of N ~ 0.0016, E[N^2] ~ 0.0022, E[N^4] ~ 0.016
        assertEquals(0.5, su / n, 0.003);
        assertEquals(1.0 / 3, su2 / n, 0.003);
        assertEquals(0, sg / n, 0.008);
        assertEquals(1, sg2 / n, 0.011);
        assertEquals(3, sg4 / n, 0.08);
    }
}
