package org.aiwae.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.aiwae.AiwaeException;
import org.aiwae.engine.backend.ThreadSetting;
import org.aiwae.objective.EncoderKl;
import org.aiwae.train.Method;
import org.aiwae.train.TrainSchedule;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code aiwae} command line (picocli). Every failure the user can fix prints one line
 * {@code aiwae: ...} on stderr and exits with status 2; nothing is written in that case. A new
 * subcommand is a {@code @Command} class listed in {@code subcommands} below; shared flags are the
 * mixins {@link ModelOptions}, {@link BackendOption} and {@link DataDirOption}.
 */
@Command(name = "aiwae", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT, versionProvider = Main.Version.class,
        usageHelpWidth = 110, sortOptions = false, synopsisSubcommandLabel = "COMMAND",
        description = {"Annealed importance weighted auto-encoders: training, evaluation and the paper's figures.",
                "'aiwae COMMAND --help' lists a command's options; 'aiwae completion' prints a bash completion script."},
        subcommands = {TrainCommand.class, EvalCommand.class, TableCommand.class, FigureCommand.Posterior.class,
                FigureCommand.Samples.class, FigureCommand.Plot.class, GridCommand.class, ClusterCommand.class, BenchCommand.class, DevicesCommand.class, DataCommand.class,
                CompletionCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Without a command: the list of commands, and status 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(System.out);
        return 2;
    }

    /** The command line with this program's error handling. */
    static CommandLine commandLine() {
        return commandLine(new PrintWriter(System.err, true));
    }

    /** The command line with its one-line errors (and picocli's messages) going to {@code err}. */
    private static CommandLine commandLine(PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(new PrintWriter(System.out, true));
        cl.setErr(err);
        cl.setParameterExceptionHandler(Main::parameterError);
        cl.setExecutionExceptionHandler((e, line, parsed) -> executionError(e, line.getErr()));
        cl.registerConverter(Method.class, s -> choice(Method::parse, s));
        cl.registerConverter(TrainSchedule.class, s -> choice(TrainSchedule::parse, s));
        cl.registerConverter(EncoderKl.class, s -> choice(EncoderKl::parse, s));
        return cl;
    }

    /** Runs a command and returns the exit status. */
    public static int run(String[] args) {
        return run(args, new PrintWriter(System.err, true));
    }

    /**
     * Runs a command and returns the exit status; the one-line error of a failure is printed to {@code err}
     * (a cluster task keeps it to report; the command's progress and notes still go to System.err).
     */
    public static int run(String[] args, PrintWriter err) {
        String environment = environmentProblem();
        if (environment != null) {
            err.println("aiwae: " + oneLine(environment));
            return 2;
        }
        try {
            return commandLine(err).execute(args);
        } catch (OutOfMemoryError e) {
            err.println("aiwae: out of memory; raise the heap with AIWAE_HEAP=16g or use a smaller batch");
            return 3;
        }
    }

    /**
     * The settings this program reads from the environment, checked like flags before any command runs:
     * a bad value is one line naming the variable (null when all are fine or unset).
     */
    static String environmentProblem() {
        String threads = ThreadSetting.value();
        if (threads != null) {
            try {
                ThreadSetting.parse(threads);
            } catch (IllegalArgumentException e) {
                return (ThreadSetting.fromProperty() ? "-Daiwae.threads" : "AIWAE_THREADS") + " " + e.getMessage();
            }
        }
        String progress = System.getenv("AIWAE_PROGRESS_SECONDS");
        if (progress != null && !progress.isBlank()) {
            try {
                org.aiwae.io.Progress.parseInterval(progress);
            } catch (IllegalArgumentException e) {
                return "AIWAE_PROGRESS_SECONDS " + e.getMessage();
            }
        }
        return null;
    }

    /** A flag or argument the parser (or a command's own check) refused: one line naming it, status 2. */
    private static int parameterError(ParameterException e, String[] args) {
        CommandSpec spec = e.getCommandLine().getCommandSpec();
        String where = spec.qualifiedName(" ");
        String message = e.getMessage();
        if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String arg = u.getUnmatched().get(0);
            java.util.Collection<String> known;
            if (arg.startsWith("-")) {
                arg = arg.replaceFirst("=.*", "");
                message = "unknown option " + arg;
                known = spec.optionsMap().keySet();
            } else if (!spec.subcommands().isEmpty()) {
                message = "unknown command '" + arg + "'";
                known = spec.subcommands().keySet();
            } else {
                message = "unexpected argument '" + arg + "'";
                known = List.of();
            }
            String suggestion = closest(arg, known);
            if (suggestion != null) {
                message += "; did you mean " + suggestion + "?";
            }
        }
        e.getCommandLine().getErr().println("aiwae: " + (spec.parent() == null ? "" : where.substring(where.indexOf(' ') + 1) + ": ")
                + oneLine(message) + " (see '" + where + " --help')");
        return 2;
    }

    /** A library parser's IllegalArgumentException as picocli's conversion error (which names the flag). */
    private static <T> T choice(java.util.function.Function<String, T> parse, String value) {
        try {
            return parse.apply(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }

    private static int executionError(Exception e, PrintWriter err) {
        if (e instanceof AiwaeException) {
            err.println("aiwae: " + oneLine(e.getMessage()));
            return 2;
        }
        if (e instanceof java.io.IOException || e instanceof java.io.UncheckedIOException) {
            // a disk, permission or file-system failure is the user's to fix: one line naming the path
            err.println("aiwae: " + oneLine(org.aiwae.io.IoErrors.describe(e)));
            return 2;
        }
        if (System.getenv("AIWAE_DEBUG") != null) {
            e.printStackTrace();
        }
        err.println("aiwae: internal error: " + oneLine(String.valueOf(e)) + " (set AIWAE_DEBUG=1 for the stack trace)");
        return 3;
    }

    /** The known name nearest to a typo by edit distance, or null when none is close. */
    static String closest(String typo, java.util.Collection<String> known) {
        String best = null;
        int bestDistance = Math.max(2, typo.length() / 3) + 1;
        for (String k : new java.util.TreeSet<>(known)) {
            int d = editDistance(typo, k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** {@code aiwae --version}: the project version and the Java runtime. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/org/aiwae/version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"aiwae " + p.getProperty("version", "unknown"),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
