package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code aiwae} in a fresh JVM with Spark's jars (the test classpath has them) and the JDK packages
 * Spark opens, one compute thread per task, as bin/aiwae runs grid and eval --master. Like
 * EvalResumeTest, the Vector API's intrinsics are off so that every JIT tier rounds alike.
 */
final class SparkJvm {
    private static final List<String> OPENS = List.of("java.lang", "java.lang.invoke", "java.lang.reflect", "java.io", "java.net",
            "java.nio", "java.util", "java.util.concurrent", "java.util.concurrent.atomic", "jdk.internal.ref", "sun.nio.ch",
            "sun.nio.cs", "sun.security.action", "sun.util.calendar");

    private SparkJvm() {}

    /** Runs {@code aiwae args} and returns its exit status; its output goes to {@code log}. */
    static int run(List<String> args, Path log, Map<String, String> env) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xmx1g", "-Daiwae.threads=1", "-Djdk.reflect.useDirectMethodHandle=false",
                "-Dlog4j2.configurationFile=" + Path.of("..", "bin", "lib", "spark-log4j2.properties").toAbsolutePath().normalize()));
        for (String p : OPENS) {
            cmd.add("--add-opens=java.base/" + p + "=ALL-UNNAMED");
        }
        if (Runtime.version().feature() >= 24) {
            cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().put("AIWAE_NO_PROGRESS", "1");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            assertTrue(false, "aiwae " + args + " did not finish in 300 s: " + Files.readString(log));
        }
        return p.exitValue();
    }
}
