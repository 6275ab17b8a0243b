package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.aiwae.cluster.Classpaths;
import org.aiwae.train.InjectedFaults;

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
        return run(args, log, env, List.of());
    }

    /** {@link #run} with JVM options, e.g. {@link org.aiwae.train.InjectedFaults#option}. */
    static int run(List<String> args, Path log, Map<String, String> env, List<String> jvmOptions) throws Exception {
        Process p = start(args, log, env, jvmOptions);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            assertTrue(false, "aiwae " + args + " did not finish in 300 s: " + Files.readString(log));
        }
        return p.exitValue();
    }

    /**
     * Starts {@code aiwae args} with its output (stdout and stderr) going to {@code log}; the caller waits for it.
     * Like bin/aiwae, it passes the application's and Spark's classpaths apart ({@link Classpaths}): the
     * application's is a jar of this module's classes ({@link #applicationJar}) and its runtime dependencies.
     */
    static Process start(List<String> args, Path log, Map<String, String> env) throws Exception {
        return start(args, log, env, List.of());
    }

    /** {@link #start} with JVM options, e.g. {@link org.aiwae.train.InjectedFaults#option}. */
    static Process start(List<String> args, Path log, Map<String, String> env, List<String> jvmOptions) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xmx1g", "-Daiwae.threads=1", "-Djdk.reflect.useDirectMethodHandle=false",
                "-Dlog4j2.configurationFile=" + Path.of("..", "bin", "lib", "spark-log4j2.properties").toAbsolutePath().normalize(),
                "-D" + Classpaths.SPARK + "=" + Files.readString(Path.of("target", "spark-classpath.txt")).strip(),
                "-D" + Classpaths.APPLICATION + "=" + applicationJar() + File.pathSeparator
                        + Files.readString(Path.of("target", "runtime-classpath.txt")).strip()));
        for (String p : OPENS) {
            cmd.add("--add-opens=java.base/" + p + "=ALL-UNNAMED");
        }
        if (Runtime.version().feature() >= 24) {
            cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().put("AIWAE_NO_PROGRESS", "1");
        pb.environment().putAll(env);
        return pb.start();
    }

    private static Path jar;

    private static void add(JarOutputStream out, String name, Path file) throws IOException {
        out.putNextEntry(new JarEntry(name));
        Files.copy(file, out);
        out.closeEntry();
    }

    /**
     * The application jar, built once per test JVM from this module's classes (target/classes; the package phase,
     * which makes the real one, comes after the tests) and the tests' fault injector ({@link InjectedFaults#files}):
     * what a cluster's executors fetch from the driver.
     */
    static synchronized Path applicationJar() throws IOException {
        if (jar == null) {
            Path dir = Files.createTempDirectory("aiwae-test-jar");
            Path j = dir.resolve("aiwae-test.jar");
            Path classes = Path.of("target", "classes");
            Path testClasses = Path.of("target", "test-classes");
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(j)); var files = Files.walk(classes)) {
                for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                    add(out, classes.relativize(f).toString().replace(File.separatorChar, '/'), f);
                }
                for (String name : InjectedFaults.files()) {
                    add(out, name, testClasses.resolve(name));
                }
            }
            j.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            jar = j;
        }
        return jar;
    }
}
