package org.aiwae.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
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
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            List<Integer> shape = new java.util.ArrayList<>();
            for (int d : t.shape()) {
                shape.add(d);
            }
            long end = offset + 4L * t.size();
            header.put(e.getKey(), Map.of("dtype", "F32", "shape", shape, "data_offsets", List.of(offset, end)));
            offset = end;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
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
        AtomicFiles.write(file, buf.array());
    }

    @SuppressWarnings("unchecked")
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
        Map<String, Object> header;
        try {
            header = (Map<String, Object>) Json.parse(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new AiwaeException(file + " has a corrupt safetensors header: " + e.getMessage());
        }
        long base = 8 + n;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                ((Map<String, Object>) e.getValue()).forEach((k, v) -> meta.put(k, String.valueOf(v)));
                continue;
            }
            Map<String, Object> info = (Map<String, Object>) e.getValue();
            if (!"F32".equals(info.get("dtype"))) {
                throw new AiwaeException(file + ": tensor " + e.getKey() + " has dtype " + info.get("dtype") + "; only F32 is supported");
            }
            List<Object> shapeList = (List<Object>) info.get("shape");
            List<Object> offs = (List<Object>) info.get("data_offsets");
            int[] shape = new int[shapeList.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = ((Double) shapeList.get(i)).intValue();
            }
            long from = ((Double) offs.get(0)).longValue(), to = ((Double) offs.get(1)).longValue();
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
