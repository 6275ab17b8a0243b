package org.aiwae.cli;

import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/** Checks of flag values beyond picocli's own: each failure is one ParameterException naming the flag. */
final class Flags {
    private Flags() {}

    /** {@code value} of {@code flag} must be at least {@code min}. */
    static void atLeast(CommandSpec spec, String flag, long value, long min) {
        if (value < min) {
            throw new ParameterException(spec.commandLine(), flag + " must be at least " + min + ", got " + value);
        }
    }

    /** {@code value} of {@code flag} must be in {@code [min, max]}; {@code unit} (may be empty) follows the range. */
    static void between(CommandSpec spec, String flag, long value, long min, long max, String unit) {
        if (value < min || value > max) {
            throw new ParameterException(spec.commandLine(), flag + " must be between " + min + " and " + max
                    + (unit.isEmpty() ? "" : " " + unit) + ", got " + value);
        }
    }

    /**
     * Runs {@code f}; an IllegalArgumentException whose message starts with a configuration field
     * ({@code batch_size must be ...}) becomes a one-line error naming the command's flag ({@code --batch-size}).
     */
    static <T> T checked(CommandSpec spec, Supplier<T> f) {
        try {
            return f.get();
        } catch (IllegalArgumentException e) {
            String m = String.valueOf(e.getMessage());
            String field = m.split("[ :]", 2)[0];
            OptionSpec o = field.matches("[a-z]+(_[a-z]+)*") ? spec.findOption("--" + field.replace('_', '-')) : null;
            throw new ParameterException(spec.commandLine(), o == null ? m : o.longestName() + m.substring(field.length()));
        }
    }
}
