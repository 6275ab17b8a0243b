package org.aiwae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Same seed, same bytes, across processes: one short epoch of IWAE and of AIWAE, each trained in fresh JVMs
 * that differ in JIT tier (C1 only, so the Vector API runs its Java fallback instead of C2's intrinsics; the
 * default tiered mix; C2 only), in vector width (the machine's, and 4 lanes by {@code -XX:MaxVectorSize=16})
 * and in thread count (1, 2, 16 and the machine's default), must write byte-identical
 * {@code model.safetensors}, {@code train-state.safetensors} and {@code config.json}, and the same
 * {@code metrics.jsonl} apart from its wall-clock fields.
 */
class DeterminismTest {
    /** Fields of a metrics line that measure time, not the computation. */
    private static final List<String> WALL_CLOCK = List.of("examples_per_s", "seconds");

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
            Path out = dir.resolve(method + "-" + i);
            List<String> args = new ArrayList<>(List.of("train", "--method", method, "--epochs", "1", "--seed", "3",
                    "--eval-images", "10", "--eval-samples", "10", "--out", out.toString()));
            args.addAll(Arrays.asList(flags));
            train(launch, args, out);
            runs.put(launch.name(), fingerprint(out));
        }
        Map<String, String> reference = runs.values().iterator().next();
        assertEquals(List.of(Checkpoint.CONFIG, Checkpoint.METRICS, Checkpoint.MODEL, Checkpoint.STATE),
                List.copyOf(reference.keySet()), "files compared");
        // the whole matrix in the message: which launches and files disagree, by the start of their SHA-256
        StringBuilder table = new StringBuilder();
        boolean same = true;
        for (Map.Entry<String, Map<String, String>> run : runs.entrySet()) {
            table.append(String.format("%n  %-45s", run.getKey()));
            for (String file : reference.keySet()) {
                String h = run.getValue().get(file);
                same &= h.equals(reference.get(file));
                table.append(String.format(" %s %s%s", file, h.substring(0, 8), h.equals(reference.get(file)) ? "" : "*"));
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

    /** SHA-256 of each file of a run folder; metrics lines without their wall-clock fields. */
    private static Map<String, String> fingerprint(Path run) throws Exception {
        Map<String, String> m = new LinkedHashMap<>();
        for (String f : List.of(Checkpoint.CONFIG, Checkpoint.METRICS, Checkpoint.MODEL, Checkpoint.STATE)) {
            byte[] bytes = Files.readAllBytes(run.resolve(f));
            if (f.equals(Checkpoint.METRICS)) {
                String text = new String(bytes, StandardCharsets.UTF_8);
                for (String k : WALL_CLOCK) {
                    text = text.replaceAll(",?\"" + k + "\":[^,}]*", "");
                }
                bytes = text.getBytes(StandardCharsets.UTF_8);
            }
            m.put(f, HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes)));
        }
        return m;
    }
}
