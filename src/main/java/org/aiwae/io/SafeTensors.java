package org.aiwae.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
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

    /** The bytes of a safetensors file holding {@code tensors} (data in their map order) and {@code metadata}. */
    public static byte[] encode(Map<String, Tensor> tensors, Map<String, String> metadata) {
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

    /** One tensor's header entry ({@code data_offsets} in JSON). */
    record TensorInfo(String dtype, int[] shape, long[] dataOffsets) {}

    public static Contents read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + file + ": " + e.getMessage(), e);
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 8) {
            throw new AiwaeException(file + " is not a safetensors file (too short)");
        }
        long n = buf.getLong();
        if (n < 2 || 8 + n > bytes.length) {
            throw new AiwaeException(file + " is not a safetensors file (bad header length " + n + ")");
        }
        JsonNode header = Json.tree(java.util.Arrays.copyOfRange(bytes, 8, (int) (8 + n)), file + " has a corrupt safetensors header");
        if (!header.isObject()) {
            throw new AiwaeException(file + " has a corrupt safetensors header: not a JSON object");
        }
        long base = 8 + n;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : header.properties()) {
            if (e.getKey().equals("__metadata__")) {
                for (Map.Entry<String, JsonNode> m : e.getValue().properties()) {
                    if (!m.getValue().isTextual()) {
                        throw new AiwaeException(file + ": metadata " + m.getKey() + " is not a string");
                    }
                    meta.put(m.getKey(), m.getValue().textValue());
                }
                continue;
            }
            TensorInfo info = Json.convert(e.getValue(), TensorInfo.class, file + ": tensor " + e.getKey());
            if (!"F32".equals(info.dtype())) {
                throw new AiwaeException(file + ": tensor " + e.getKey() + " has dtype " + info.dtype() + "; only F32 is supported");
            }
            int[] shape = info.shape();
            long[] offs = info.dataOffsets();
            if (shape == null || offs == null || offs.length != 2 || offs[0] < 0 || offs[1] < offs[0]
                    || java.util.Arrays.stream(shape).anyMatch(d -> d < 0)) {
                throw new AiwaeException(file + " is truncated or corrupt at tensor " + e.getKey());
            }
            long from = offs[0], to = offs[1];
            Tensor t = Tensor.zeros(shape);
            if (to - from != 4L * t.size() || base + to > bytes.length) {
                throw new AiwaeException(file + " is truncated or corrupt at tensor " + e.getKey());
            }
            ByteBuffer data = ByteBuffer.wrap(bytes, (int) (base + from), (int) (to - from)).order(ByteOrder.LITTLE_ENDIAN);
            data.asFloatBuffer().get(t.data());
            tensors.put(e.getKey(), t);
        }
        return new Contents(tensors, meta);
    }
}
