package org.aiwae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Same seed, same bytes, across processes: one short epoch of IWAE and of AIWAE, each trained in fresh JVMs
 * that differ in JIT tier (C1 only, so the Vector API runs its Java fallback instead of C2's intrinsics; the
 * default tiered mix; C2 only), in vector width (the machine's, and 4 lanes by {@code -XX:MaxVectorSize=16})
 * and in thread count (1, 2, 16 and the machine's default), must write byte-identical run folders: every file
 * ({@code config.json}, {@code metrics.jsonl}, {@code model.safetensors}, the checkpoint's
 * {@code train-state.safetensors}, ...) except {@code timings.jsonl}, which holds the wall-clock times.
 */
class DeterminismTest {
    @TempDir
    Path dir;

    /** One way of launching the JVM: extra JVM flags and the thread count ({@code null}: the machine's default). */
    private record Launch(String name, List<String> jvmFlags, String threads) {}

    private static final List<Launch> LAUNCHES = List.of(
            new Launch("C1 only (Vector API fallback), 2 threads", List.of("-XX:TieredStopAtLevel=1"), "2"),
            new Launch("default JIT, default threads", List.of(), null),
            new Launch("default JIT, 1 thread", List.of(), "1"),
            new Launch("default JIT, 2 threads", List.of(), "2"),
            new Launch("C2 only, 4-lane vectors, 16 threads", List.of("-XX:-TieredCompilation", "-XX:MaxVectorSize=16"), "16"));

    @Test
    void iwaeEpochIsTheSameBytesWhateverTheJitTierAndThreadCount() throws Exception {
        sameBytesEverywhere("iwae", "--samples", "5", "--batch-size", "20", "--train-limit", "80", "--hidden", "100", "--latent", "20");
    }

    @Test
    void aiwaeEpochIsTheSameBytesWhateverTheJitTierAndThreadCount() throws Exception {
        sameBytesEverywhere("aiwae", "--samples", "3", "--temperatures", "3", "--leapfrog", "2", "--batch-size", "32",
                "--train-limit", "64", "--hidden", "100", "--latent", "20");
    }

    private void sameBytesEverywhere(String method, String... flags) throws Exception {
        Map<String, Map<String, String>> runs = new LinkedHashMap<>();
        for (int i = 0; i < LAUNCHES.size(); i++) {
            Launch launch = LAUNCHES.get(i);
            Path out = dir.resolve("launch-" + i).resolve(method); // the same folder name: it appears in curves.png
            List<String> args = new ArrayList<>(List.of("train", "--method", method, "--epochs", "1", "--seed", "3",
                    "--eval-images", "10", "--eval-samples", "10", "--out", out.toString()));
            args.addAll(Arrays.asList(flags));
            Files.createDirectories(out.getParent());
            train(launch, args, out);
            runs.put(launch.name(), fingerprint(out));
        }
        Map<String, String> reference = runs.values().iterator().next();
        for (String f : List.of(RunFolder.CONFIG, RunFolder.METRICS, RunFolder.MODEL,
                RunFolder.CHECKPOINTS + "/epoch-0001/" + RunFolder.STATE)) {
            assertTrue(reference.containsKey(f), f + " among the files compared: " + reference.keySet());
        }
        // the whole matrix in the message: which launches and files disagree, by the start of their SHA-256
        StringBuilder table = new StringBuilder();
        boolean same = true;
        for (Map.Entry<String, Map<String, String>> run : runs.entrySet()) {
            table.append(String.format("%n  %-45s", run.getKey()));
            same &= run.getValue().keySet().equals(reference.keySet());
            for (String file : reference.keySet()) {
                String h = run.getValue().getOrDefault(file, "missing!");
                same &= h.equals(reference.get(file));
                table.append(String.format(" %s %s%s", file.substring(file.lastIndexOf('/') + 1), h.substring(0, 8),
                        h.equals(reference.get(file)) ? "" : "*"));
            }
        }
        assertTrue(same, method + ": files differ between launches (* = differs from the first):" + table);
    }

    /** Runs {@code aiwae train} in a fresh JVM on this test's class path. */
    private static void train(Launch launch, List<String> args, Path out) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-modules=jdk.incubator.vector");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        if (Runtime.version().feature() >= 24) {
            cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        cmd.add("-Xmx1g");
        cmd.addAll(launch.jvmFlags());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("org.aiwae.cli.Main");
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("_JAVA_OPTIONS");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.environment().remove("AIWAE_THREADS");
        if (launch.threads() != null) {
            pb.environment().put("AIWAE_THREADS", launch.threads());
        }
        pb.redirectErrorStream(true);
        File log = out.resolveSibling(out.getFileName() + ".log").toFile();
        pb.redirectOutput(log);
        Process p = pb.start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(launch.name() + ": training did not finish in 300 s");
        }
        String output = Files.readString(log.toPath());
        assertEquals(0, p.exitValue(), launch.name() + ": " + output);
    }

    /** SHA-256 of every file of a run folder (by path), except the wall-clock timings and the lock. */
    private static Map<String, String> fingerprint(Path run) throws Exception {
        Map<String, String> m = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(run)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        for (Path f : files) {
            String name = run.relativize(f).toString().replace(File.separatorChar, '/');
            if (name.equals(RunFolder.TIMINGS) || name.equals(RunFolder.LOCK)) {
                continue;
            }
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f));
            m.put(name, HexFormat.of().formatHex(digest));
        }
        return m;
    }
}
