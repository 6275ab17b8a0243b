package org.aiwae.io;

import java.io.PrintStream;

/**
 * A one-line progress bar on stderr: redrawn in place on a terminal (at most 4 times a second),
 * printed once at the end when stderr is not a terminal (logs, CI).
 */
public final class Progress {
    private static final int WIDTH = 24;
    private final PrintStream out;
    private final boolean live;
    private final String label;
    private final long total;
    private final long startNanos = System.nanoTime();
    private long lastDraw;

    /** {@code out} may be null: then nothing is printed. */
    public Progress(PrintStream out, String label, long total) {
        this.out = out == null ? new PrintStream(java.io.OutputStream.nullOutputStream()) : out;
        this.live = out != null && System.console() != null && System.getenv("AIWAE_NO_PROGRESS") == null;
        this.label = label;
        this.total = Math.max(total, 1);
    }

    public double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** Updates the bar: {@code done} of the total, with a free-form suffix (rate, loss). */
    public void update(long done, String suffix) {
        long now = System.nanoTime();
        if (!live || (now - lastDraw < 250_000_000L && done < total)) {
            return;
        }
        lastDraw = now;
        out.print("\r" + line(done, suffix) + "\u001b[K");
        out.flush();
    }

    /** Ends the line. */
    public void finish(long done, String suffix) {
        out.print((live ? "\r" : "") + line(done, suffix) + (live ? "\u001b[K" : "") + "\n");
        out.flush();
    }

    private String line(long done, String suffix) {
        int filled = (int) (WIDTH * Math.min(done, total) / total);
        double s = seconds();
        double eta = done > 0 ? s * (total - done) / done : 0;
        return String.format("%s [%s%s] %d/%d %s %s", label, "#".repeat(filled), " ".repeat(WIDTH - filled), done, total,
                done < total ? "eta " + time(eta) : time(s), suffix);
    }

    static String time(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
