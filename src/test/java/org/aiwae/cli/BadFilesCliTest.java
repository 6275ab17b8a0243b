package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.aiwae.data.Idx;
import org.aiwae.data.Images;
import org.aiwae.engine.Tensor;
import org.aiwae.io.SafeTensors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corrupt, hostile or unwritable files through the command line: exit 2, one line on stderr naming
 * the file, and no output file (nor temporary file) left behind.
 */
class BadFilesCliTest {
    @TempDir
    static Path shared;
    static Path run;

    @TempDir
    Path dir;

    private final List<Path> mounts = new ArrayList<>();

    private static CliRun cli(String... args) {
        return CliRun.of(args);
    }

    @BeforeAll
    static void trainATinyTwoDimensionalModel() {
        run = shared.resolve("z2");
        CliRun o = cli("train", "--method", "iwae", "--samples", "2", "--latent", "2", "--hidden", "8", "--train-limit", "60",
                "--epochs", "1", "--out", run.toString(), "--eval-samples", "2");
        assertEquals(0, o.status(), o.err());
    }

    /** Copies the run and rewrites every file called {@code name} in it (whatever the checkpoint layout). */
    private Path corrupted(String name, UnaryOperator<byte[]> change) throws IOException {
        Path copy = org.aiwae.train.CheckpointFiles.copy(run, dir.resolve("bad-" + name + "-" + System.nanoTime()));
        int changed = 0;
        try (Stream<Path> files = Files.walk(copy)) {
            for (Path f : files.filter(p -> p.getFileName().toString().equals(name)).toList()) {
                Files.write(f, change.apply(Files.readAllBytes(f)));
                changed++;
            }
        }
        assertTrue(changed > 0, "no " + name + " in " + run);
        org.aiwae.train.CheckpointFiles.reseal(copy); // a hostile file with matching sums: the readers' own checks must refuse it
        return copy;
    }

    /** Exit 2 and one error line naming the file (train prints its progress lines before it), no stack trace. */
    private static void refused(CliRun o, String file, String expected) {
        assertEquals(2, o.status(), o.err());
        List<String> lines = o.err().strip().lines().toList();
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("aiwae: ") && last.contains(file) && last.contains(expected), o.err());
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception") || l.contains("internal error")), o.err());
        assertTrue(o.err().startsWith("aiwae: ") && (lines.size() == 1 || o.err().contains("aiwae: training")), o.err());
    }

    private void everyReaderRefuses(Path bad, String file, String expected) throws IOException {
        Path png = dir.resolve("figure.png");
        refused(cli("samples", "--checkpoint", bad.toString(), "--out", png.toString()), file, expected);
        refused(cli("posterior", "--checkpoint", bad.toString(), "--out", png.toString(), "--images", "0"), file, expected);
        refused(cli("eval", "--checkpoint", bad.toString(), "--limit", "2", "--nll-chains", "1", "--nll-temperatures", "2",
                "--nvlb-samples", "2"), file, expected);
        assertFalse(Files.exists(png));
        try (Stream<Path> s = Files.walk(bad)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("eval")), "nothing written into " + bad);
        }
    }

    private static byte[] withHeader(byte[] file, UnaryOperator<String> edit) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) b.getLong(0);
        String header = new String(file, 8, n, java.nio.charset.StandardCharsets.UTF_8);
        byte[] h = edit.apply(header).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + file.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(file, 8 + n, file.length - 8 - n);
        return out.array();
    }

    @Test
    void corruptModelFilesAreRefusedByEveryCommand() throws IOException {
        String model = "model.safetensors";
        everyReaderRefuses(corrupted(model, b -> withHeader(b, h -> h.replaceFirst("\"data_offsets\":\\[0,", "\"data_offsets\":[-64,"))),
                model, "data_offsets begin must be an integer");
        everyReaderRefuses(corrupted(model, b -> {
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat(b.length - 4, Float.NaN);
            return b;
        }), model, "holds NaN");
        everyReaderRefuses(corrupted(model, b -> java.util.Arrays.copyOf(b, b.length - 10)), model, "");
        everyReaderRefuses(corrupted(model, b -> {
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
            return b;
        }), model, "header length 1099511627776 does not fit");
        everyReaderRefuses(corrupted(model, b -> withHeader(b, h -> h.replaceFirst("\"F32\"", "\"F16\""))), model, "only F32");
    }

    /** A file with one tensor more than the run has: {@code extra} added to its tensors, metadata kept. */
    private static byte[] withExtraTensor(byte[] file, String extra) {
        SafeTensors.Contents c = SafeTensors.read(file, "original");
        Map<String, Tensor> tensors = new LinkedHashMap<>(c.tensors());
        tensors.put(extra, Tensor.zeros(3));
        return SafeTensors.encode(tensors, c.metadata());
    }

    @Test
    void anUnexpectedTensorIsRefusedNamingTheFileAndTheTensor() throws IOException {
        String model = "model.safetensors", state = "train-state.safetensors";
        Path bad = corrupted(model, b -> withExtraTensor(b, "enc.l9.weight"));
        everyReaderRefuses(bad, model, "unexpected tensor 'enc.l9.weight'");
        refused(cli("train", "--resume", "--out", bad.toString(), "--epochs", "2"), model, "unexpected tensor 'enc.l9.weight'");
        Path badState = corrupted(state, b -> withExtraTensor(b, "adam.gen.m.extra"));
        refused(cli("train", "--resume", "--out", badState.toString(), "--epochs", "2"), state, "unexpected tensor 'adam.gen.m.extra'");
        assertEquals(1, org.aiwae.train.Checkpoints.latestEpoch(badState), "the refused resume trained nothing");
    }

    @Test
    void deeplyNestedConfigIsOneLine() throws IOException {
        Path bad = corrupted("config.json", b -> ("{\"a\":" + "[".repeat(50_000)).getBytes());
        everyReaderRefuses(bad, "config.json", "too deeply nested");
        CliRun resume = cli("train", "--resume", "--out", bad.toString(), "--epochs", "2");
        refused(resume, "config.json", "too deeply nested");
    }

    @Test
    void corruptGzipDataIsRefusedBeforeTraining() throws IOException {
        Path data = dir.resolve("mnist");
        Files.createDirectories(data);
        java.util.Random r = new java.util.Random(1);
        float[] p = new float[20 * 784];
        for (int i = 0; i < p.length; i++) {
            p[i] = r.nextInt(256) / 255f;
        }
        Images im = new Images("x", p, 20, 28, 28, new int[20]);
        Idx.write(im, data.resolve("train-images-idx3-ubyte"), data.resolve("train-labels-idx1-ubyte"));
        Idx.write(im, data.resolve("t10k-images-idx3-ubyte"), data.resolve("t10k-labels-idx1-ubyte"));
        Path gz = data.resolve("train-images-idx3-ubyte.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            Files.copy(data.resolve("train-images-idx3-ubyte"), o);
        }
        Files.delete(data.resolve("train-images-idx3-ubyte"));
        byte[] b = Files.readAllBytes(gz);
        b[b.length - 6] ^= 1; // inside the CRC-32
        Files.write(gz, b);
        Path out = dir.resolve("never");
        refused(cli("train", "--dataset", "mnist", "--data-dir", data.toString(), "--epochs", "1", "--out", out.toString()),
                gz.toString(), "Corrupt GZIP trailer");
        assertFalse(Files.exists(out));
    }

    @Test
    void unwritableOutputIsOneLineNamingThePath() throws IOException {
        Path plain = dir.resolve("plain-file");
        Files.writeString(plain, "not a folder");
        CliRun t = cli("train", "--method", "iwae", "--samples", "1", "--hidden", "8", "--latent", "2", "--batch-size", "10", "--epochs", "1",
                "--train-limit", "20", "--eval-samples", "2", "--out", plain.resolve("run").toString());
        refused(t, plain.toString(), "");
        CliRun s = cli("samples", "--checkpoint", run.toString(), "--out", plain.resolve("s.png").toString());
        refused(s, plain.toString(), "");
    }

    private Path tmpfs(String name, String options) throws IOException, InterruptedException {
        Path m = Files.createDirectories(dir.resolve(name));
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", options, "tmpfs", m.toString()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        Assumptions.assumeTrue(p.waitFor() == 0, "mounting a small tmpfs needs root (CI runs as root)");
        mounts.add(m);
        return m;
    }

    @AfterEach
    void unmount() throws IOException, InterruptedException {
        for (Path m : mounts) {
            new ProcessBuilder("umount", m.toString()).redirectErrorStream(true).start().waitFor();
        }
    }

    @Test
    void fullAndReadOnlyDisksAreOneLineAndLeaveNoTemporaryFiles() throws Exception {
        Path full = tmpfs("full", "size=64k");
        Path runDir = full.resolve("run");
        CliRun t = cli("train", "--method", "iwae", "--samples", "1", "--hidden", "8", "--latent", "2", "--batch-size", "10", "--epochs", "1",
                "--train-limit", "20", "--eval-samples", "2", "--out", runDir.toString());
        refused(t, runDir.toString(), "No space left on device");
        try (Stream<Path> s = Files.walk(full)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary files left on the full disk");
        }
        Path png = tmpfs("small", "size=4k").resolve("big.png");
        refused(cli("posterior", "--checkpoint", run.toString(), "--out", png.toString(), "--images", "0,1", "--panel", "112"),
                png.toString(), "No space left on device");
        assertFalse(Files.exists(png));

        Path ro = tmpfs("ro", "ro,size=64k");
        refused(cli("samples", "--checkpoint", run.toString(), "--out", ro.resolve("s.png").toString()), ro.resolve("s.png").toString(),
                "Read-only file system");
        refused(cli("train", "--method", "iwae", "--samples", "1", "--hidden", "8", "--latent", "2", "--batch-size", "10", "--epochs", "1",
                "--train-limit", "20", "--eval-samples", "2", "--out", ro.resolve("run").toString()), ro.resolve("run").toString(),
                "Read-only file system");
        refused(cli("eval", "--checkpoint", run.toString(), "--out", ro.resolve("ev").toString(), "--limit", "2", "--nll-chains", "1",
                "--nll-temperatures", "2", "--nvlb-samples", "2"), ro.resolve("ev").toString(), "Read-only file system");
        try (Stream<Path> s = Files.list(ro)) {
            assertEquals(0, s.count());
        }
    }
}
