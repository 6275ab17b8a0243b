package org.aiwae.io;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.aiwae.AiwaeException;

/**
 * A {@code SHA256SUMS} file in the format of coreutils' {@code sha256sum}: one line
 * {@code <64 lowercase hex digits><two spaces><file name>} per file, names in sorted order, so
 * {@code sha256sum -c SHA256SUMS} checks a folder by hand and equal contents give equal bytes.
 * Reading is strict: a malformed or repeated line, a name with a path in it, or a file larger than
 * {@value #MAX_BYTES} bytes is one line naming the file.
 */
public final class Sha256Sums {
    /** The largest sums file read: a few lines are all this project writes. */
    public static final int MAX_BYTES = 1 << 16;
    private static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,254}";
    private static final Pattern LINE = Pattern.compile("([0-9a-f]{64})  (" + NAME + ")");

    private Sha256Sums() {}

    /** The SHA-256 of {@code data}, as 64 lowercase hex digits. */
    public static String of(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** The file listing {@code files} (name to content) with their sums, names sorted. */
    public static byte[] encode(Map<String, byte[]> files) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(files).forEach((name, content) -> {
            if (!name.matches(NAME)) {
                throw new IllegalArgumentException("not a plain file name: " + name);
            }
            sb.append(of(content)).append("  ").append(name).append('\n');
        });
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The sums of {@code content} read from file {@code name}: file name to hex digest, in file order. */
    public static Map<String, String> parse(byte[] content, String name) {
        if (content.length > MAX_BYTES) {
            throw new AiwaeException(name + " is corrupt: " + content.length + " bytes, more than a sums file's " + MAX_BYTES);
        }
        String text = new String(content, StandardCharsets.UTF_8);
        if (!text.endsWith("\n")) {
            throw new AiwaeException(name + " is corrupt: it does not end with a complete line");
        }
        Map<String, String> sums = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length - 1; i++) {
            Matcher m = LINE.matcher(lines[i]);
            if (!m.matches()) {
                throw new AiwaeException(name + " is corrupt: line " + (i + 1) + " is not '<SHA-256 in hex>  <file name>'");
            }
            if (sums.put(m.group(2), m.group(1)) != null) {
                throw new AiwaeException(name + " is corrupt: " + m.group(2) + " is listed twice");
            }
        }
        return sums;
    }
}
