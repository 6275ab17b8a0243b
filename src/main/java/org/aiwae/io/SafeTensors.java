package org.aiwae.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import java.util.TreeMap;
import org.aiwae.AiwaeException;
import org.aiwae.engine.Tensor;

/**
 * The safetensors format (readable by PyTorch's {@code safetensors.torch.load_file}): an 8-byte
 * little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
 * string metadata under {@code __metadata__}, then the little-endian float32 data. Files are
 * written to a temporary name and renamed, so a kill never leaves a torn file.
 */
public final class SafeTensors {
    private SafeTensors() {}

    /** Tensors by name and string metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
        public Tensor require(String name, Path file) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new AiwaeException(file + " has no tensor '" + name + "'");
            }
            return t;
        }
    }

    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        AtomicFiles.write(file, encode(tensors, metadata));
    }

    /**
     * The bytes of a safetensors file holding {@code tensors} and {@code metadata}: header keys sorted, data in
     * the map's order when it has one (a {@link SequencedMap} such as {@code LinkedHashMap}), else by name, so
     * equal contents always give equal bytes.
     */
    public static byte[] encode(Map<String, Tensor> tensors, Map<String, String> metadata) {
        tensors = ordered(tensors);
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            long end = offset + 4L * t.size();
            header.put(e.getKey(), new TensorInfo("F32", t.shape(), new long[] {offset, end}));
            offset = end;
        }
        byte[] json = Json.bytes(header); // keys sorted: equal tensors give equal bytes
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer buf = ByteBuffer.allocate((int) (8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(padded);
        buf.put(json);
        for (int i = json.length; i < padded; i++) {
            buf.put((byte) ' ');
        }
        for (Tensor t : tensors.values()) {
            float[] d = t.data();
            for (int i = t.offset(), end = t.offset() + t.size(); i < end; i++) {
                buf.putFloat(d[i]);
            }
        }
        return buf.array();
    }

    /** The map itself when its iteration order is defined, else its entries sorted by key. */
    private static <V> Map<String, V> ordered(Map<String, V> m) {
        return m instanceof SequencedMap<String, V> ? m : new TreeMap<>(m);
    }

    /** One tensor's header entry ({@code data_offsets} in JSON). */
    record TensorInfo(String dtype, int[] shape, long[] dataOffsets) {}

    /** The safetensors specification's bound on the JSON header. */
    static final long MAX_HEADER = 100L << 20;

    /** The dtypes of the safetensors specification; only F32 is loaded. */
    private static final Set<String> DTYPES = Set.of("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16",
            "BF16", "I32", "U32", "F32", "F64", "I64", "U64");

    /**
     * Reads a file written by {@link #write} (or by PyTorch's {@code safetensors} with float32
     * tensors). Everything is validated before it is used, and any problem is an
     * {@link AiwaeException} naming the file: the header length must lie within the file and the
     * specification's 100 MB; the header must be well-formed UTF-8 JSON (no duplicate keys, bounded
     * nesting) holding an object whose entries are {@code __metadata__} (strings) or tensors with
     * exactly {@code dtype} (F32), {@code shape} (non-negative integers) and {@code data_offsets}
     * (two non-negative integers, begin &lt;= end, {@code end - begin = 4 * prod(shape)}); the
     * tensors' byte ranges must tile the data section exactly (no gaps, no overlaps, nothing past
     * the end); and every value must be finite, since no NaN or infinity is ever written.
     */
    public static Contents read(Path file) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > Integer.MAX_VALUE - 8) {
                throw new AiwaeException(file + " is too large for a model file (" + size + " bytes)");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + file + ": " + IoErrors.reason(e), e);
        }
        return read(bytes, file.toString());
    }

    /** Reads safetensors bytes; {@code name} is the file named in error messages. */
    public static Contents read(byte[] bytes, String name) {
        if (bytes.length < 8) {
            throw new AiwaeException(name + " is not a safetensors file (" + bytes.length + " bytes, shorter than the 8-byte header length)");
        }
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 2 || n > MAX_HEADER || n > bytes.length - 8) {
            throw new AiwaeException(name + " is not a safetensors file (header length " + Long.toUnsignedString(n)
                    + " does not fit in its " + bytes.length + " bytes)");
        }
        JsonNode header = Json.tree(Arrays.copyOfRange(bytes, 8, (int) (8 + n)), name + " has a corrupt safetensors header");
        if (!header.isObject()) {
            throw new AiwaeException(name + " has a corrupt safetensors header: not a JSON object");
        }
        long base = 8 + n, dataLength = bytes.length - base;
        record Entry(String name, int[] shape, long from, long to) {}
        List<Entry> entries = new ArrayList<>();
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : header.properties()) {
            String key = e.getKey();
            if (key.equals("__metadata__")) {
                if (!e.getValue().isObject()) {
                    throw new AiwaeException(name + ": __metadata__ is not a JSON object");
                }
                for (Map.Entry<String, JsonNode> m : e.getValue().properties()) {
                    if (!m.getValue().isTextual()) {
                        throw new AiwaeException(name + ": metadata " + shown(m.getKey()) + " is not a string");
                    }
                    meta.put(m.getKey(), m.getValue().textValue());
                }
                continue;
            }
            String where = name + ": tensor " + shown(key);
            JsonNode info = e.getValue();
            if (!info.isObject() || info.size() != 3 || !info.has("dtype") || !info.has("shape") || !info.has("data_offsets")) {
                throw new AiwaeException(where + " must be an object with exactly dtype, shape and data_offsets");
            }
            JsonNode dtype = info.get("dtype");
            if (!dtype.isTextual() || !DTYPES.contains(dtype.textValue())) {
                throw new AiwaeException(where + " has an unknown dtype " + dtype);
            }
            if (!dtype.textValue().equals("F32")) {
                throw new AiwaeException(where + " has dtype " + dtype.textValue() + "; only F32 is supported");
            }
            JsonNode shapeList = info.get("shape");
            if (!shapeList.isArray() || shapeList.size() > 8) {
                throw new AiwaeException(where + ": shape must be a list of at most 8 dimensions");
            }
            int[] shape = new int[shapeList.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = (int) nonNegative(shapeList.get(i), Integer.MAX_VALUE, where + ": shape");
                count = count == 0 || shape[i] == 0 ? 0 : count * shape[i];
                if (count > dataLength) {
                    throw new AiwaeException(where + " has shape " + shapeList + ", more than the file's "
                            + dataLength + " data bytes hold");
                }
            }
            JsonNode offs = info.get("data_offsets");
            if (!offs.isArray() || offs.size() != 2) {
                throw new AiwaeException(where + ": data_offsets must be a list [begin, end]");
            }
            long from = nonNegative(offs.get(0), dataLength, where + ": data_offsets begin");
            long to = nonNegative(offs.get(1), dataLength, where + ": data_offsets end");
            if (to < from || to - from != 4 * count) {
                throw new AiwaeException(where + " has data_offsets [" + from + ", " + to + "] for shape "
                        + shapeList + " (" + 4 * count + " bytes of F32)");
            }
            entries.add(new Entry(key, shape, from, to));
        }
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::from).thenComparingLong(Entry::to));
        long at = 0;
        for (Entry e : byOffset) {
            if (e.from() != at) {
                throw new AiwaeException(name + ": tensor " + shown(e.name()) + " starts at byte " + e.from() + " of the data, expected "
                        + at + (e.from() < at ? " (it overlaps another tensor)" : " (a gap precedes it)"));
            }
            at = e.to();
        }
        if (at != dataLength) {
            throw new AiwaeException(name + " has " + (dataLength - at) + " bytes after its last tensor (truncated or corrupt)");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            Tensor t = Tensor.zeros(e.shape());
            ByteBuffer data = ByteBuffer.wrap(bytes, (int) (base + e.from()), (int) (e.to() - e.from())).order(ByteOrder.LITTLE_ENDIAN);
            data.asFloatBuffer().get(t.data());
            float[] v = t.data();
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new AiwaeException(name + ": tensor " + shown(e.name()) + " holds " + v[i] + " at element " + i
                            + "; a model or training state with NaN or infinite values is refused (a diverged run)");
                }
            }
            tensors.put(e.name(), t);
        }
        return new Contents(tensors, meta);
    }

    /** A name from the file as it can appear in a one-line message: as is when plain, else JSON-quoted. */
    private static String shown(String name) {
        return name.matches("[A-Za-z0-9_.:/+-]+") ? name : Json.write(name);
    }

    private static long nonNegative(JsonNode node, long max, String what) {
        if (node == null || !node.isIntegralNumber() || !node.canConvertToLong() || node.longValue() < 0 || node.longValue() > max) {
            throw new AiwaeException(what + " must be an integer in [0, " + max + "], got " + node);
        }
        return node.longValue();
    }
}
