package org.aiwae.eval;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.aiwae.AiwaeException;
import org.aiwae.io.Json;

/**
 * The per-image results of one split of an evaluation, as JSON lines: a header line recording
 * what was evaluated (protocol, seed, model, data), then one line per image,
 * {@code {"image":12,"nll":93.41,"nvlb":95.07}}, appended as the images are done. Every append is
 * one write followed by an fsync, so a killed run loses at most the batch in flight; a torn last
 * line (a kill inside the write) is dropped when the file is opened again. The file is locked while
 * open, so two evaluations never write it at once.
 *
 * <p>JSON has no NaN: a value that is not finite is written as the string {@code "NaN"},
 * {@code "Infinity"} or {@code "-Infinity"} (Jackson's default), never as null, and read back as such.
 */
public final class ResultsFile implements AutoCloseable {
    /** One image's results: negative log-likelihood by AIS and negative L_k (the NVLB). */
    public record ImageResult(int image, double nll, double nvlb) {
        /** Both values finite (false: the evaluation of this image diverged). */
        public boolean finite() {
            return Double.isFinite(nll) && Double.isFinite(nvlb);
        }
    }

    /**
     * The header line: everything an image's results depend on. {@code --resume} continues a file only
     * when its header equals the one of the new run.
     *
     * @param aiwaeEval    the file format (2)
     * @param splitImages  images in the split (identifies the data together with the dataset name)
     * @param modelSha256  {@link Evaluator#fingerprint} of the evaluated model
     */
    public record Header(int aiwaeEval, String split, String dataset, int splitImages, String modelSha256, int epoch, long seed,
                         String backend, Evaluator.Protocol protocol) {}

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;
    private final TreeMap<Integer, ImageResult> results = new TreeMap<>();

    private ResultsFile(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * An existing results file that cannot be continued: written with another header (the message
     * names the first field that differs) or holding a line that is not a result. Starting over
     * (deleting it) or writing elsewhere is the caller's choice.
     */
    public static final class Mismatch extends AiwaeException {
        Mismatch(String message) {
            super(message);
        }
    }

    /**
     * Opens {@code file} for appending. A new (or empty) file gets {@code header} as its first line;
     * an existing one must have been written with an equal header, else it is refused with a
     * {@link Mismatch} naming the first field that differs. The complete image lines already there are loaded.
     */
    public static ResultsFile open(Path file, Header header) {
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new AiwaeException(file + " is being written by another evaluation; wait for it to finish");
            }
            ResultsFile r = new ResultsFile(file, ch, lock);
            r.load(header);
            ch = null;
            return r;
        } catch (IOException e) {
            throw new AiwaeException("cannot write " + file + ": " + e.getMessage());
        } finally {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
        }
    }

    private void load(Header header) throws IOException {
        long size = channel.size();
        if (size > Integer.MAX_VALUE) {
            throw new AiwaeException(file + " is too large to be an evaluation's results");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) size);
        while (buf.hasRemaining() && channel.read(buf, buf.position()) >= 0) {
            // read it all
        }
        long keep = parse(file, buf.array(), buf.position(), header, results);
        if (keep == 0) {
            channel.truncate(0);
            write(Json.write(header) + "\n");
            syncFolder(file.toAbsolutePath().getParent()); // the new file's name survives a crash too
        } else if (keep < size) {
            channel.truncate(keep);
            channel.force(true);
        }
    }

    /**
     * The complete image lines of a results file, read without writing or locking it (for reports over
     * finished evaluations); a missing file, or one that is not a results file, is one line naming it.
     */
    public static Map<Integer, ImageResult> read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + file + ": " + org.aiwae.io.IoErrors.describe(e));
        }
        TreeMap<Integer, ImageResult> into = new TreeMap<>();
        parse(file, bytes, bytes.length, null, into);
        return java.util.Collections.unmodifiableMap(into);
    }

    /**
     * Parses the first {@code length} bytes of a results file into {@code into}: the header (compared with
     * {@code wanted} unless null), then the image lines. Only lines that end with '\n' count; bytes after the
     * last one, or a last complete line that is not a result, are a line torn by a kill and dropped. Returns
     * the length of the part kept (0: no header yet).
     */
    private static long parse(Path file, byte[] all, int length, Header wanted, Map<Integer, ImageResult> into) {
        List<byte[]> lines = new java.util.ArrayList<>();
        for (int from = 0, nl; from < length; from = nl + 1) {
            for (nl = from; nl < length && all[nl] != '\n'; nl++) {
                // find the end of the line
            }
            if (nl == length) {
                break;
            }
            lines.add(java.util.Arrays.copyOfRange(all, from, nl));
        }
        int complete = lines.size();
        long keep = 0;
        for (int i = 0; i < complete; i++) {
            byte[] line = lines.get(i);
            String where = file + " line " + (i + 1);
            if (i == 0) {
                Header recorded;
                try {
                    recorded = Json.read(line, Header.class, where, false);
                } catch (AiwaeException e) {
                    throw new Mismatch(e.getMessage() + "; not a results header written by this version");
                }
                String diff = wanted == null ? null : difference(wanted, recorded);
                if (diff != null) {
                    throw new Mismatch(file + " was written with " + diff);
                }
            } else {
                ImageResult r;
                try {
                    r = Json.read(line, ImageResult.class, where, false);
                } catch (AiwaeException e) {
                    if (i == complete - 1) {
                        break; // a line torn by a kill that still reached its newline is as good as absent
                    }
                    throw new Mismatch(e.getMessage() + "; not an image result");
                }
                into.put(r.image(), r);
            }
            keep += line.length + 1;
        }
        return keep;
    }

    private static void syncFolder(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // not every platform can sync a folder; the file itself is synced
        }
    }

    /** The first field where {@code recorded} differs from {@code wanted}, as "a different X: old (now new)"; null if equal. */
    private static String difference(Header wanted, Header recorded) {
        if (wanted.equals(recorded)) {
            return null;
        }
        Map<String, Object> want = Json.fields(wanted), was = Json.fields(recorded);
        for (String k : want.keySet()) {
            if (!Objects.equals(want.get(k), was.get(k))) {
                return "a different " + k + ": " + Json.write(was.get(k)) + " (now " + Json.write(want.get(k)) + ")";
            }
        }
        return "a different header";
    }

    /** The results loaded or appended so far, by image index. */
    public Map<Integer, ImageResult> results() {
        return java.util.Collections.unmodifiableMap(results);
    }

    /** Appends the lines of {@code batch} in one write and syncs them to disk. */
    public void append(List<ImageResult> batch) {
        StringBuilder sb = new StringBuilder();
        for (ImageResult r : batch) {
            sb.append(Json.write(r)).append('\n');
        }
        try {
            write(sb.toString());
        } catch (IOException e) {
            throw new AiwaeException("cannot write " + file + ": " + e.getMessage());
        }
        for (ImageResult r : batch) {
            results.put(r.image(), r);
        }
    }

    private void write(String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
        long at = channel.size();
        while (b.hasRemaining()) {
            at += channel.write(b, at);
        }
        channel.force(true);
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            throw new AiwaeException("cannot close " + file + ": " + e.getMessage());
        }
    }
}
