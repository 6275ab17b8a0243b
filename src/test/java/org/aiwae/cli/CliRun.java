package org.aiwae.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;

/**
 * Runs the command line in this JVM and captures what it prints: for the CLI tests. One run at a
 * time (System.out and System.err are the process's), so tests that run commands from several
 * threads are safe.
 */
public record CliRun(int status, String err, String out) {
    public static synchronized CliRun of(String... args) {
        PrintStream oldErr = System.err, oldOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream(), out = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err));
        System.setOut(new PrintStream(out));
        try {
            return new CliRun(Main.run(args), err.toString(), out.toString());
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
    }

    public static CliRun of(List<String> args) {
        return of(args.toArray(String[]::new));
    }
}
