package org.aiwae.engine.backend;

/**
 * The CPU backend's thread count as the user sets it: {@code -Daiwae.threads}, else the environment
 * variable {@code AIWAE_THREADS}. Apart from {@link Parallel} (whose loading starts the worker threads),
 * so the command line can check the setting before anything runs.
 */
public final class ThreadSetting {
    /** The most threads a setting may ask for. */
    public static final int MAX = 1024;

    private ThreadSetting() {}

    /** The setting's text, or null when neither is set (or it is blank). */
    public static String value() {
        String p = System.getProperty("aiwae.threads", System.getenv("AIWAE_THREADS"));
        return p == null || p.isBlank() ? null : p;
    }

    /** Whether the value comes from {@code -Daiwae.threads} rather than {@code AIWAE_THREADS}. */
    public static boolean fromProperty() {
        String property = System.getProperty("aiwae.threads");
        return property != null && !property.equals(System.getenv("AIWAE_THREADS"));
    }

    /**
     * The thread count that {@code value} asks for: a whole number from 1 to {@value #MAX}; anything
     * else is an IllegalArgumentException saying so. {@link Parallel} falls back to the processor count
     * on a bad value; the command line refuses it.
     */
    public static int parse(String value) {
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1 && n <= MAX) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // the message below
        }
        throw new IllegalArgumentException("must be a whole number of threads from 1 to " + MAX + ", got '" + value + "'");
    }
}
