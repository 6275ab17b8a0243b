package org.aiwae.fuzz;

import org.aiwae.AiwaeException;

/** What every fuzz test checks of a rejection: one line that names the input. */
final class Reported {
    private Reported() {}

    static void check(AiwaeException e, String name) {
        String m = e.getMessage();
        if (m == null || m.isBlank() || m.contains("\n") || m.contains("\r") || !m.contains(name)) {
            throw new AssertionError("a rejection must be one line naming " + name + ", got: " + m, e);
        }
    }
}
