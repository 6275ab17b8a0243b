package org.aiwae.cluster;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.aiwae.AiwaeException;

/**
 * The two classpaths that {@code bin/aiwae} passes to the commands that use Spark: the application's
 * ({@value #APPLICATION}: the aiwae jar and its runtime dependencies, what a cluster's executors
 * fetch from the driver) and Spark's ({@value #SPARK}: spark-core and its dependencies, what the
 * daemons of {@link StandaloneCluster} run on).
 */
public final class Classpaths {
    /** The system property with the application's classpath. */
    public static final String APPLICATION = "aiwae.classpath";
    /** The system property with Spark's classpath. */
    public static final String SPARK = "aiwae.spark.classpath";

    private Classpaths() {}

    /** The application's jars; one line naming the property when it is not set. */
    public static List<Path> application() {
        return jars(property(APPLICATION), APPLICATION);
    }

    /**
     * The jars of a Spark installation: Spark's classpath plus the Jackson jars of the application's
     * (Spark needs Jackson too, and Maven keeps one copy, on the application's side).
     */
    public static List<Path> sparkInstallation() {
        List<Path> jars = new ArrayList<>(jars(property(SPARK), SPARK));
        for (Path j : jars(property(APPLICATION), APPLICATION)) {
            if (j.getFileName().toString().startsWith("jackson-")) {
                jars.add(j);
            }
        }
        return jars;
    }

    /** The jars of a classpath ({@code :}-separated; an entry {@code DIR/*} is every jar in DIR); a folder entry is refused. */
    public static List<Path> jars(String classpath, String source) {
        List<Path> out = new ArrayList<>();
        for (String e : classpath.split(File.pathSeparator)) {
            if (e.isBlank()) {
                continue;
            }
            if (e.endsWith(File.separator + "*")) {
                Path dir = Path.of(e.substring(0, e.length() - 2));
                try (var files = Files.list(dir)) {
                    files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().forEach(out::add);
                } catch (IOException ex) {
                    throw new AiwaeException(source + ": cannot list " + dir + ": " + ex.getMessage());
                }
            } else if (Files.isDirectory(Path.of(e))) {
                throw new AiwaeException(source + " has the folder " + e + ", which cannot be shipped to a cluster; "
                        + "build the jars with 'mvn -pl src -am package -DskipTests'");
            } else {
                out.add(Path.of(e));
            }
        }
        return out;
    }

    private static String property(String name) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            throw new AiwaeException("the system property " + name + " is not set; run this command through bin/aiwae, "
                    + "which sets it for the commands that use Spark");
        }
        return v;
    }
}
