package org.aiwae.io;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.function.LongSupplier;

/**
 * A one-line progress report with an ETA, on stderr by default:
 * <ul>
 *   <li>{@link Mode#LIVE} (stdout is a terminal): one line redrawn in place, at most 4 times a second;</li>
 *   <li>{@link Mode#LOG} (a log file, CI): a plain line every {@code AIWAE_PROGRESS_SECONDS} seconds
 *       (default 10), so a long run shows it is alive and how long it has left;</li>
 *   <li>{@link Mode#QUIET} ({@code AIWAE_NO_PROGRESS} set): nothing until the end;</li>
 * </ul>
 * and in every mode one final line from {@link #finish}. The ETA counts only the work done since
 * this report started (work done before a resume is excluded from the rate).
 */
public final class Progress {
    /** How updates are shown. */
    public enum Mode { LIVE, LOG, QUIET }

    private static final int WIDTH = 24;
    private final PrintStream out;
    private final Mode mode;
    private final String label;
    private final long total;
    private final long intervalNanos;
    private final LongSupplier clock;
    private final long startNanos;
    private long startDone;
    private long lastDraw;
    private long scale = 1;

    /** {@code out} may be null: then nothing is printed. The mode follows the environment. */
    public Progress(PrintStream out, String label, long total) {
        this(out, label, total, defaultMode(), intervalFromEnvironment(), System::nanoTime);
    }

    /** With an explicit mode, interval between LOG lines and clock (tests). */
    public Progress(PrintStream out, String label, long total, Mode mode, long intervalNanos, LongSupplier clock) {
        this.out = out == null ? new PrintStream(OutputStream.nullOutputStream()) : out;
        this.mode = out == null ? Mode.QUIET : mode;
        this.label = label;
        this.total = Math.max(total, 1);
        this.intervalNanos = intervalNanos;
        this.clock = clock;
        this.startNanos = clock.getAsLong();
        this.lastDraw = startNanos;
    }

    /** LIVE when stdout is an interactive terminal, QUIET with {@code AIWAE_NO_PROGRESS}, else LOG. */
    public static Mode defaultMode() {
        if (System.getenv("AIWAE_NO_PROGRESS") != null) {
            return Mode.QUIET;
        }
        return isTerminal() ? Mode.LIVE : Mode.LOG;
    }

    /** {@code System.console()} exists for a redirected stdout on JDK 22+; there {@code Console.isTerminal()} tells. */
    private static boolean isTerminal() {
        java.io.Console c = System.console();
        if (c == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return true; // JDK 21: a console exists only for a terminal
        }
    }

    private static long intervalFromEnvironment() {
        String s = System.getenv("AIWAE_PROGRESS_SECONDS");
        try {
            return (long) (s == null || s.isBlank() ? 10e9 : parseInterval(s) * 1e9);
        } catch (IllegalArgumentException e) {
            return 10_000_000_000L;
        }
    }

    /**
     * Seconds between the plain progress lines that {@code AIWAE_PROGRESS_SECONDS} asks for: a number
     * from 0.1 to 86,400; anything else is an IllegalArgumentException saying so (the command line checks
     * the setting with this before anything runs).
     */
    public static double parseInterval(String value) {
        try {
            double v = Double.parseDouble(value.trim());
            if (v >= 0.1 && v <= 86_400) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // the message below
        }
        throw new IllegalArgumentException("must be a number of seconds from 0.1 to 86400, got '" + value + "'");
    }

    public double seconds() {
        return (clock.getAsLong() - startNanos) / 1e9;
    }

    /** Work that was already done before this report started (a resumed run): not counted in the rate. */
    public Progress resumedAt(long done) {
        this.startDone = done;
        return this;
    }

    /** Shows counts divided by {@code scale} (work counted in fine units, shown in whole items, e.g. images). */
    public Progress scaled(long scale) {
        this.scale = Math.max(scale, 1);
        return this;
    }

    /** Reports {@code done} of the total, with a free-form suffix (rate, loss, phase). */
    public void update(long done, String suffix) {
        update(done, () -> suffix);
    }

    /**
     * {@link #update(long, String)} with a suffix computed only when a line is drawn (a training loop on a device
     * reads its losses back only then).
     */
    public void update(long done, java.util.function.Supplier<String> suffix) {
        long now = clock.getAsLong();
        switch (mode) {
            case LIVE -> {
                if (now - lastDraw >= 250_000_000L || done >= total) {
                    lastDraw = now;
                    out.print("\r" + line(done, suffix.get()) + "\u001b[K");
                    out.flush();
                }
            }
            case LOG -> {
                if (done < total && now - lastDraw >= intervalNanos) { // the end is finish()'s line
                    lastDraw = now;
                    out.println(line(done, suffix.get()));
                    out.flush();
                }
            }
            case QUIET -> { }
        }
    }

    /** Ends the report with one line. */
    public void finish(long done, String suffix) {
        boolean live = mode == Mode.LIVE;
        out.print((live ? "\r" : "") + line(done, suffix) + (live ? "\u001b[K" : "") + "\n");
        out.flush();
    }

    /** The current line, e.g. {@code label [######      ] 30/100 eta 1m10s suffix}. */
    public String line(long done, String suffix) {
        int filled = (int) (WIDTH * Math.max(0, Math.min(done, total)) / total);
        double s = seconds();
        long fresh = done - startDone;
        String when = done >= total ? time(s) : fresh > 0 ? "eta " + time(s * (total - done) / fresh) : "eta ?";
        return String.format("%s [%s%s] %d/%d %s %s", label, "#".repeat(filled), " ".repeat(WIDTH - filled), done / scale, total / scale,
                when, suffix).stripTrailing();
    }

    /** {@code 1h02m}, {@code 3m07s}. */
    public static String time(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
