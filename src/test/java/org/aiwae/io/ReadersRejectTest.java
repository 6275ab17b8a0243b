package org.aiwae.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.aiwae.AiwaeException;
import org.aiwae.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors and JSON readers and the atomic writer refuse bad input with one line naming the file. */
class ReadersRejectTest {
    @TempDir
    Path dir;

    /** A safetensors file with the given JSON header (padded) and data bytes. */
    static byte[] safetensors(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (int i = 0; i < dataBytes / 4; i++) {
            b.putFloat(i);
        }
        return b.array();
    }

    private AiwaeException rejects(byte[] bytes, String expected) throws IOException {
        Path f = dir.resolve("m.safetensors");
        Files.write(f, bytes);
        AiwaeException e = assertThrows(AiwaeException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()) || e.getMessage().contains(f + ":") || e.getMessage().contains(f + " "),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        return e;
    }

    private static String tensor(String name, String shape, long from, long to) {
        return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[" + from + "," + to + "]}";
    }

    @Test
    void roundTripStillWorks() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("w", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        t.put("b", Tensor.of(new float[] {-1, 0.5f}, 2));
        t.put("empty", Tensor.zeros(0, 3));
        Path f = dir.resolve("ok.safetensors");
        SafeTensors.write(f, t, Map.of("epoch", "3"));
        SafeTensors.Contents c = SafeTensors.read(f);
        assertEquals(6f, c.tensors().get("w").get(1, 2));
        assertEquals("3", c.metadata().get("epoch"));
        assertEquals(0, c.tensors().get("empty").size());
        // the handwritten layout this test builds other files with is the same format
        assertEquals(2f, SafeTensors.read(safetensors("{" + tensor("a", "[3]", 0, 12) + "}", 12), "x").tensors().get("a").get(2));
    }

    @Test
    void hostileHeadersAndOffsetsAreRefused() throws IOException {
        rejects(new byte[] {1, 2, 3}, "shorter than the 8-byte header length");
        byte[] huge = safetensors("{}", 0);
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
        rejects(huge, "does not fit");
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -8);
        rejects(huge, "does not fit");
        rejects(safetensors("{" + tensor("a", "[2]", -8, 0) + "}", 8), "data_offsets begin must be an integer");
        rejects(safetensors("{" + tensor("a", "[2]", 0, 8) + "," + tensor("b", "[2]", 4, 12) + "}", 12), "overlaps");
        rejects(safetensors("{" + tensor("a", "[2]", 8, 16) + "}", 16), "a gap precedes it");
        rejects(safetensors("{" + tensor("a", "[2]", 0, 8) + "}", 16), "8 bytes after its last tensor");
        rejects(safetensors("{" + tensor("a", "[4]", 0, 16) + "}", 8), "data_offsets end must be an integer in [0, 8], got 16");
        rejects(safetensors("{" + tensor("a", "[40]", 0, 160) + "}", 8), "more than the file's 8 data bytes hold");
        rejects(safetensors("{" + tensor("a", "[2]", 0, 12) + "}", 12), "(8 bytes of F32)");
        rejects(safetensors("{" + tensor("a", "[65536,65536,65536]", 0, 8) + "}", 8), "more than the file's");
        rejects(safetensors("{" + tensor("a", "[2.5]", 0, 8) + "}", 8), "shape must be an integer");
        rejects(safetensors("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4), "only F32 is supported");
        rejects(safetensors("{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "unknown dtype");
        rejects(safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "exactly dtype, shape and data_offsets");
        rejects(safetensors("{\"a\":[1,2]}", 8), "exactly dtype, shape and data_offsets");
        rejects(safetensors("[1]", 0), "not a JSON object");
        rejects(safetensors("{\"__metadata__\":{\"epoch\":3}}", 0), "is not a string");
        rejects(safetensors("{" + tensor("a", "[2]", 0, 8) + "," + tensor("a", "[2]", 0, 8) + "}", 8), "Duplicate field 'a'");
        rejects(safetensors("[".repeat(5000) + "]".repeat(5000), 0), "too deeply nested");
        byte[] notUtf8 = safetensors("{\"\u00e9\":1}", 0);
        notUtf8[10] = (byte) 0xFF;
        rejects(notUtf8, "Invalid UTF-8");
        rejects(safetensors("{" + tensor("line\\nbreak", "[2]", 0, 4) + "}", 4), "\"line\\nbreak\"");
    }

    @Test
    void nanAndInfinityAreRefused() throws IOException {
        Path f = dir.resolve("nan.safetensors");
        SafeTensors.write(f, Map.of("w", Tensor.of(new float[] {1, Float.NaN}, 2)), Map.of());
        AiwaeException e = assertThrows(AiwaeException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("holds NaN at element 1") && e.getMessage().startsWith(f.toString()), e.getMessage());
        SafeTensors.write(f, Map.of("w", Tensor.of(new float[] {Float.NEGATIVE_INFINITY}, 1)), Map.of());
        assertTrue(assertThrows(AiwaeException.class, () -> SafeTensors.read(f)).getMessage().contains("-Infinity"));
    }

    @Test
    void hostileJsonIsOneLineNamingTheSource() {
        for (String bad : new String[] {"[".repeat(100_000) + "]".repeat(100_000), "{\"a\":" + "{\"a\":".repeat(100_000) + "1" + "}".repeat(100_001),
                "{\"a\":\"" + "x".repeat(2 << 20) + "\"}", "{\"a\":1,\"a\":2}", "\"\\x\"", "[\u0001]", "{\"a\":"}) {
            AiwaeException e = assertThrows(AiwaeException.class, () -> Json.tree(bad.getBytes(StandardCharsets.UTF_8), "hostile.json"));
            assertTrue(e.getMessage().startsWith("hostile.json: ") && !e.getMessage().contains("\n"), e.getMessage());
        }
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertTrue(Json.tree(ok.getBytes(StandardCharsets.UTF_8), "ok.json").isArray());
    }

    @Test
    void aFailedWriteNamesTheFileAndLeavesNoTemporaryFile() throws IOException {
        Path notAFolder = dir.resolve("plain");
        Files.writeString(notAFolder, "x");
        Path target = notAFolder.resolve("model.safetensors");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(target, "data"));
        assertTrue(e.getMessage().startsWith("cannot write " + target + ": "), e.getMessage());
        // a rename that fails (the target is a non-empty folder) removes the temporary file it wrote
        Path folder = dir.resolve("taken");
        Files.createDirectories(folder.resolve("inside"));
        IOException m = assertThrows(IOException.class, () -> AtomicFiles.writeString(folder, "data"));
        assertTrue(m.getMessage().startsWith("cannot write " + folder + ": "), m.getMessage());
        try (var s = Files.list(dir)) {
            assertEquals(java.util.List.of("plain", "taken"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
