package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code aiwae cluster}: a Spark standalone master and two workers, JVMs of their own on 127.0.0.1 started
 * by {@code cluster start} (in a JVM that exits), are up for the whole class and stopped by
 * {@code cluster stop} at its end, which ends exactly them (and leaves alone a process that a stray pid file names).
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ClusterTest {
    @TempDir
    static Path tmp;

    static TestCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TestCluster.start(tmp.resolve("cluster"), 2, 0, Map.of());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster == null) {
            return;
        }
        List<ProcessHandle> daemons = List.of(cluster.daemon("master"), cluster.daemon("worker-1"), cluster.daemon("worker-2"));
        // a pid file naming a process the cluster did not start (this JVM): stop must leave that process alone
        Files.writeString(cluster.dir.resolve("worker-3.pid"), ProcessHandle.current().pid() + "\n");
        CliRun stop = CliRun.of("cluster", "stop", "--dir", cluster.dir.toString());
        cluster.close();
        assertEquals(0, stop.status(), stop.err());
        assertTrue(stop.err().contains("master: stopped pid " + daemons.get(0).pid()) && stop.err().contains("worker-3: not running"),
                stop.err());
        for (ProcessHandle h : daemons) {
            assertFalse(h.isAlive(), "cluster stop left pid " + h.pid() + " running");
        }
        assertEquals(List.of(), cluster.alive(), "processes of the cluster still running");
        assertFalse(Files.exists(cluster.dir.resolve("master.pid")));
    }

    /** The daemons run on Spark's jars alone (no aiwae jar), bound to 127.0.0.1; status lists both workers. */
    @Test
    void theDaemonsRunOnSparksJarsAndStatusListsTheWorkers() throws Exception {
        assertTrue(cluster.master.matches("spark://127\\.0\\.0\\.1:\\d+"), cluster.master);
        for (String d : List.of("master", "worker-1", "worker-2")) {
            List<String> args = List.of(cluster.daemon(d).info().arguments().orElseThrow());
            assertTrue(args.contains(d.equals("master") ? "org.apache.spark.deploy.master.Master" : "org.apache.spark.deploy.worker.Worker"), args.toString());
            assertEquals("127.0.0.1", args.get(args.indexOf("--host") + 1));
            String cp = args.get(args.indexOf("-cp") + 1);
            assertTrue(cp.contains("spark-home") && !cp.contains("aiwae"), cp);
        }
        try (var jars = Files.list(cluster.dir.resolve("spark-home/jars"))) {
            List<String> names = jars.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.startsWith("spark-core_")), names.toString());
            assertTrue(names.stream().noneMatch(n -> n.startsWith("aiwae")), names.toString());
        }
        CliRun status = CliRun.of("cluster", "status", "--dir", cluster.dir.toString());
        assertEquals(0, status.status(), status.err());
        assertTrue(status.out().startsWith("master " + cluster.master + " ALIVE"), status.out());
        assertEquals(2, status.out().lines().filter(l -> l.startsWith("worker 127.0.0.1:") && l.contains("ALIVE")).count(), status.out());
    }

    /** Starting again with the same layout starts nothing; another layout, a bad flag or a folder without a cluster is one line. */
    @Test
    void startingAgainStartsNothingAndAnotherLayoutIsOneLine() throws Exception {
        List<Long> before = List.of(cluster.daemon("master").pid(), cluster.daemon("worker-1").pid(), cluster.daemon("worker-2").pid());
        String again = cluster.runStart();
        assertTrue(again.contains(cluster.master) && !again.contains("started worker"), again);
        assertEquals(before, List.of(cluster.daemon("master").pid(), cluster.daemon("worker-1").pid(), cluster.daemon("worker-2").pid()));

        CliRun other = CliRun.of("cluster", "start", "--dir", cluster.dir.toString(), "--workers", "3");
        assertEquals(2, other.status(), other.err());
        assertTrue(other.err().contains("runs with 2 workers x 1 core") && other.err().lines().count() == 1, other.err());

        CliRun bad = CliRun.of("cluster", "start", "--dir", cluster.dir.toString(), "--workers", "0");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("--workers must be between 1 and 64"), bad.err());

        CliRun none = CliRun.of("cluster", "status", "--dir", tmp.resolve("nothing").toString());
        assertEquals(2, none.status());
        assertTrue(none.err().contains("holds no cluster"), none.err());
    }
}
