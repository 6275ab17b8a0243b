package org.aiwae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;
import org.aiwae.io.Json;
import org.aiwae.objective.EncoderKl;
import org.aiwae.train.Method;
import org.aiwae.train.TrainSchedule;
import org.junit.jupiter.api.Test;

/** The keyed enums: written and read by their lower-case keys, and an unknown key refused in one line with the choices. */
class KeyedTest {
    @Test
    void keysRoundTripThroughFlagsAndJson() {
        check(Method.class, Method::parse, List.of("vae", "iwae", "aiwae"));
        check(TrainSchedule.class, TrainSchedule::parse, List.of("paper", "short"));
        check(EncoderKl.class, EncoderKl::parse, List.of("analytic", "sample"));
    }

    private static <E extends Enum<E> & Keyed> void check(Class<E> type, Function<String, E> parse, List<String> keys) {
        assertEquals(keys, Keyed.keys(type));
        for (E e : type.getEnumConstants()) {
            assertEquals(e.name().toLowerCase(), e.key());
            assertEquals(e.key(), e.toString());
            assertEquals(e, parse.apply(e.key()));
            assertEquals("\"" + e.key() + "\"", Json.write(e));
            assertEquals(e, Json.read(Json.write(e).getBytes(StandardCharsets.UTF_8), type, "test", false));
        }
        assertThrows(IllegalArgumentException.class, () -> parse.apply(keys.get(0).toUpperCase()), "keys are lower case");
        assertThrows(IllegalArgumentException.class, () -> parse.apply(null));
    }

    @Test
    void anUnknownKeyNamesWhatAndTheChoices() {
        assertEquals("unknown method 'gan'; choose vae, iwae or aiwae",
                assertThrows(IllegalArgumentException.class, () -> Method.parse("gan")).getMessage());
        assertEquals("unknown schedule 'long'; choose paper or short",
                assertThrows(IllegalArgumentException.class, () -> TrainSchedule.parse("long")).getMessage());
        AiwaeException e = assertThrows(AiwaeException.class,
                () -> Json.read("\"exact\"".getBytes(StandardCharsets.UTF_8), EncoderKl.class, "f.json", false));
        assertTrue(e.getMessage().startsWith("f.json: ") && e.getMessage().contains("unknown encoder KL 'exact'; choose analytic or sample"),
                e.getMessage());
    }
}
