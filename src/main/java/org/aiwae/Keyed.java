package org.aiwae;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A closed set (an enum) that flags and files spell by a key: the constant's name in lower case
 * ({@code AIWAE} is {@code aiwae}). An enum implements it, returns {@link #key()} from
 * {@code toString()}, and parses with {@link #parse}; Jackson writes the key ({@code @JsonValue} here)
 * and reads it through the enum's {@code @JsonCreator}, which calls {@link #parse}.
 */
public interface Keyed {
    /** The enum constant's name (implemented by {@link Enum#name()}). */
    String name();

    /** The name in flags and files: the constant's name in lower case. */
    @com.fasterxml.jackson.annotation.JsonValue
    default String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The keys of {@code type}'s constants, in declaration order. */
    static <E extends Enum<E> & Keyed> List<String> keys(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(Keyed::key).toList();
    }

    /**
     * The constant of {@code type} whose key is {@code key}; otherwise an IllegalArgumentException
     * with one line naming what was given and the choices: {@code unknown method 'gan'; choose vae, iwae or aiwae}.
     *
     * @param what what the value is, for the message ({@code method})
     */
    static <E extends Enum<E> & Keyed> E parse(Class<E> type, String what, String key) {
        for (E e : type.getEnumConstants()) {
            if (e.key().equals(key)) {
                return e;
            }
        }
        List<String> keys = keys(type);
        throw new IllegalArgumentException("unknown " + what + " '" + key + "'; choose "
                + String.join(", ", keys.subList(0, keys.size() - 1)) + " or " + keys.get(keys.size() - 1));
    }
}
