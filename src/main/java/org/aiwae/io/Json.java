package org.aiwae.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.aiwae.AiwaeException;

/**
 * JSON for every file this program writes or reads (config.json, eval.json, metrics lines,
 * safetensors headers), with Jackson: records map to objects with snake_case keys in declaration
 * order, map keys are written sorted, so equal values give equal bytes. Reading is strict (no
 * float-to-int or string-to-number coercion, no unknown fields, no trailing tokens) and bounded
 * (nesting depth, string, number and document sizes), so hostile input fails with one line.
 */
public final class Json {
    /** Deepest nesting accepted: the files written here nest at most 3 levels. */
    public static final int MAX_DEPTH = 32;

    private static final JsonMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_DEPTH)
                            .maxStringLength(1 << 20)
                            .maxNumberLength(64)
                            .maxNameLength(1 << 12)
                            .maxDocumentLength(64L << 20)
                            .build())
                    .build())
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();

    private Json() {}

    /** One line of JSON (no trailing newline). */
    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The same as {@link #write}, as UTF-8 bytes. */
    public static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** A value's fields by JSON name, in the order they are written (records, maps). */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> fields(Object value) {
        return MAPPER.convertValue(value, LinkedHashMap.class);
    }

    /** Reads {@code file} as a {@code type}; any problem is one line naming the file and the field. */
    public static <T> T read(Path file, Class<T> type) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AiwaeException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return read(bytes, type, file.toString(), false);
    }

    /**
     * Parses {@code json} as a {@code type}; {@code source} names it in the one-line error.
     * {@code lenient} accepts (and ignores) unknown fields, for files another version may extend.
     */
    public static <T> T read(byte[] json, Class<T> type, String source, boolean lenient) {
        ObjectReader r = MAPPER.readerFor(type);
        if (lenient) {
            r = r.without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        }
        try {
            return r.readValue(json);
        } catch (IOException e) {
            throw new AiwaeException(source + ": " + describe(e), e);
        }
    }

    /** Parses {@code json} as a tree (for formats with free-form keys, like safetensors headers). */
    public static JsonNode tree(byte[] json, String source) {
        try {
            JsonNode n = MAPPER.readTree(json);
            if (n == null || n.isMissingNode()) {
                throw new AiwaeException(source + ": empty JSON");
            }
            return n;
        } catch (IOException e) {
            throw new AiwaeException(source + ": " + describe(e), e);
        }
    }

    /** A parsed tree node as a {@code type}, strictly; {@code source} names it in the one-line error. */
    public static <T> T convert(JsonNode node, Class<T> type, String source) {
        try {
            return MAPPER.treeToValue(node, type);
        } catch (IOException | IllegalArgumentException e) {
            throw new AiwaeException(source + ": " + (e instanceof IOException io ? describe(io) : e.getMessage()), e);
        }
    }

    /** {@code text} with line breaks and other control characters escaped ({@code \n}, {@code \u0000}): a field name from a file stays on one line. */
    static String printable(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                b.append("\\n");
            } else if (c == '\r') {
                b.append("\\r");
            } else if (c == '\t') {
                b.append("\\t");
            } else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** A parse or mapping failure as one line: the field's path, then what is wrong there. */
    static String describe(IOException e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        String what;
        if (cause instanceof IllegalArgumentException && !(cause instanceof JsonProcessingException)) {
            what = cause.getMessage(); // a record's own validation: its message names the field
        } else if (e instanceof StreamConstraintsException s) {
            what = "too large or too deeply nested (" + s.getOriginalMessage().replaceAll("\\s*\\(.*", "") + ")";
        } else if (e instanceof JsonProcessingException j) {
            what = j.getOriginalMessage();
        } else {
            what = String.valueOf(e.getMessage());
        }
        what = what.replaceAll("\\s*\\R[\\s\\S]*", "") // Jackson's hints about its own settings are no help to the user
                .replaceAll("\\s*\\((but could|but might|set DeserializationConfig)[^)]*\\)+", "")
                .replaceAll(",\\s*not marked as ignorable.*", "")
                .replaceAll("^Cannot map `null` into type .*", "missing or null")
                .replace("Cannot coerce", "cannot read");
        what = printable(what); // a name from the file may hold control characters that are not line breaks
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty() && !(cause instanceof IllegalArgumentException
                && !(cause instanceof JsonProcessingException))) {
            String path = m.getPath().stream()
                    .map(r -> r.getFieldName() != null ? printable(r.getFieldName()) : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining(".")).replace(".[", "[");
            return "field " + path + ": " + what;
        }
        if (e instanceof JsonProcessingException j && j.getLocation() != null && !(e instanceof JsonMappingException)) {
            return "malformed JSON at line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr() + ": " + what;
        }
        return what;
    }
}
