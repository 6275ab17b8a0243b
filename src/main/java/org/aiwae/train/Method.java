package org.aiwae.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import org.aiwae.Keyed;

/** The training objectives: the paper's VAE (K samples), IWAE and AIWAE. Written and read as lower case. */
public enum Method implements Keyed {
    VAE, IWAE, AIWAE;

    @Override
    public String toString() {
        return key();
    }

    /** Parses a key; throws IllegalArgumentException naming the choices. */
    @JsonCreator
    public static Method parse(String key) {
        return Keyed.parse(Method.class, "method", key);
    }

    /** The paper's minibatch: 20 for VAE and IWAE, 128 for AIWAE. */
    public int defaultBatch() {
        return this == AIWAE ? 128 : 20;
    }
}
