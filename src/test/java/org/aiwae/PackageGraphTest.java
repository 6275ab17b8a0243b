package org.aiwae;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The application's packages form an acyclic graph (imports and fully qualified names both count). */
class PackageGraphTest {
    private static final Pattern USE = Pattern.compile("\\borg\\.aiwae\\.([a-z]+)\\.[A-Za-z]");

    @Test
    void packagesAreAcyclic() throws IOException {
        Path root = Files.isDirectory(Path.of("main/java/org/aiwae")) ? Path.of("main/java/org/aiwae") : Path.of("src/main/java/org/aiwae");
        Map<String, Set<String>> deps = new TreeMap<>();
        try (var files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Path rel = root.relativize(f);
                if (rel.getNameCount() < 2) {
                    continue; // org.aiwae itself (AiwaeException): a leaf every package may use
                }
                String pkg = rel.getName(0).toString();
                Set<String> out = deps.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = USE.matcher(Files.readString(f));
                while (m.find()) {
                    if (!m.group(1).equals(pkg) && Files.isDirectory(root.resolve(m.group(1)))) {
                        out.add(m.group(1));
                    }
                }
            }
        }
        assertTrue(deps.size() >= 8, deps.toString());
        for (String start : deps.keySet()) {
            List<String> path = new ArrayList<>(List.of(start));
            assertTrue(!reaches(deps, start, start, new TreeSet<>(), path), "package cycle: " + String.join(" -> ", path));
        }
    }

    private static boolean reaches(Map<String, Set<String>> deps, String from, String target, Set<String> seen, List<String> path) {
        for (String next : deps.getOrDefault(from, Set.of())) {
            path.add(next);
            if (next.equals(target) || seen.add(next) && reaches(deps, next, target, seen, path)) {
                return true;
            }
            path.remove(path.size() - 1);
        }
        return false;
    }
}
