package org.aiwae.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

/** Runs the command line in this JVM and captures what it prints: for the CLI tests. */
record CliRun(int status, String err, String out) {
    static CliRun of(String... args) {
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
}
