package org.aiwae.engine.random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.aiwae.engine.Placement;
import org.junit.jupiter.api.Test;

class KeyTest {

    @Test
    void childrenHaveWordsOfTheirOwnAndNeverTheParents() {
        Key root = Key.of(7);
        Set<Key> seen = new HashSet<>();
        seen.add(root);
        for (Key k : root.split(2000)) {
            assertTrue(seen.add(k), "split child repeats a key: " + k);
        }
        for (int i = 0; i < 2000; i++) {
            assertTrue(seen.add(root.fold(i)), "fold(" + i + ") repeats a split child or the root");
        }
        // what RandomStream.fork got wrong: a grandchild differs from the child, child 0 from the root
        Key one = root.fold(1);
        assertNotEquals(one, one.fold(1));
        assertNotEquals(root, root.fold(0));
        assertNotEquals(root, root.split(1)[0]);
        assertNotEquals(root.fold(1).fold(2), root.fold(2).fold(1));
        // other roots give other children
        assertNotEquals(Key.of(8).fold(0), root.fold(0));
    }

    @Test
    void keysAreValuesAndChildIDoesNotDependOnN() {
        assertEquals(Key.of(3).split(2)[1], Key.of(3).split(5)[1]);
        assertEquals(Key.of(3).fold(9), Key.of(3).fold(9));
        Key k = Key.of(11).fold(4);
        assertArrayEquals(k.normal(Placement.HOST, 3, 5).toArray(), k.normal(Placement.HOST, 3, 5).toArray(),
                "a key draws the same numbers each time");
        assertArrayEquals(k.uniform(Placement.HOST, 6).toArray(), new RandomStream(k.seed(), k.id(), 0).uniform(6).toArray());
        assertThrows(IllegalArgumentException.class, () -> k.split(0));
    }

    @Test
    void siblingStreamsAreUncorrelated() {
        Key[] kids = Key.of(1).split(2);
        int n = 200_000;
        float[] a = kids[0].normal(Placement.HOST, n).toArray(), b = kids[1].normal(Placement.HOST, n).toArray();
        assertFalse(java.util.Arrays.equals(a, b));
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < n; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        double r = ab / Math.sqrt(aa * bb);
        assertTrue(Math.abs(r) < 4 / Math.sqrt(n), "correlation of sibling streams " + r);
    }
}
