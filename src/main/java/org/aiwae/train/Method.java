package org.aiwae.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;

/** The training objectives: the paper's VAE (K samples), IWAE and AIWAE. Written and read as lower case. */
public enum Method {
    VAE, IWAE, AIWAE;

    /** The name in flags and files: {@code vae}, {@code iwae}, {@code aiwae}. */
    @JsonValue
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return key();
    }

    /** Parses a key; throws IllegalArgumentException naming the choices. */
    @JsonCreator
    public static Method parse(String key) {
        for (Method m : values()) {
            if (m.key().equals(key)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown method '" + key + "'; choose " + String.join(", ",
                Arrays.stream(values()).map(Method::key).toList()));
    }

    /** The paper's minibatch: 20 for VAE and IWAE, 128 for AIWAE. */
    public int defaultBatch() {
        return this == AIWAE ? 128 : 20;
    }
}
