package org.aiwae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gives one line on stderr, a non-zero exit, and writes nothing. */
class CliTest {
    @TempDir
    Path dir;

    private CliRun run(String... args) {
        return CliRun.of(args);
    }

    private void rejected(String expected, String... args) {
        Path out = dir.resolve("out");
        String[] full = new String[args.length + 2];
        System.arraycopy(args, 0, full, 0, args.length);
        full[args.length] = "--out";
        full[args.length + 1] = out.toString();
        CliRun o = run(full);
        assertEquals(2, o.status(), String.join(" ", args) + " -> " + o.err());
        assertTrue(o.err().startsWith("aiwae: ") && o.err().strip().lines().count() == 1, o.err());
        assertTrue(o.err().contains(expected), o.err());
        assertFalse(Files.exists(out), "nothing written for " + String.join(" ", args));
    }

    @Test
    void badTrainingInputs() {
        rejected("unknown dataset", "train", "--dataset", "cifar");
        rejected("unknown method", "train", "--method", "gan");
        rejected("--samples (K) must be at least 1", "train", "--samples", "0");
        rejected("--temperatures (T) must be at least 2", "train", "--temperatures", "1");
        rejected("--leapfrog (L) must be at least 1", "train", "--leapfrog", "0");
        rejected("larger than the 2000 training images", "train", "--batch-size", "5000");
        rejected("'--samples': 'five' is not an int", "train", "--samples", "five");
        rejected("unknown option --sample", "train", "--sample", "5");
        rejected("; run 'bin/aiwae data fetch mnist' or pass --data-dir", "train", "--dataset", "mnist", "--data-dir",
                dir.resolve("empty").toString());
        rejected("; copy it there or pass --data-dir", "train", "--dataset", "omniglot", "--data-dir", dir.resolve("empty").toString());
        rejected("unknown backend", "train", "--backend", "tpu");
        rejected("--epochs must be at least 1", "train", "--epochs", "0");
    }

    @Test
    void existingOutputFolderNeedsResume() throws Exception {
        Path out = dir.resolve("exists");
        Files.createDirectories(out);
        CliRun o = run("train", "--out", out.toString(), "--epochs", "1");
        assertEquals(2, o.status());
        assertTrue(o.err().contains("already exists; pass --resume"), o.err());
        try (var s = Files.list(out)) {
            assertEquals(0, s.count());
        }
        CliRun r = run("train", "--resume", "--out", out.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("not a training run folder"), r.err());
    }

    @Test
    void trainsFromTheCommandLineAndResumes() throws Exception {
        Path out = dir.resolve("run");
        CliRun o = run("train", "--method", "iwae", "--samples", "2", "--latent", "4", "--hidden", "16",
                "--train-limit", "100", "--epochs", "1", "--out", out.toString(), "--eval-samples", "5");
        assertEquals(0, o.status(), o.err());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
        assertEquals(1, Files.readAllLines(out.resolve("metrics.jsonl")).size());
        CliRun bad = run("train", "--resume", "--out", out.toString(), "--samples", "3");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("--samples 3 conflicts with the run's samples 2"), bad.err());
        CliRun conflicting = run("train", "--resume", "--out", out.toString(), "--method", "aiwae");
        assertEquals(2, conflicting.status());
        assertTrue(conflicting.err().contains("--method aiwae conflicts with the run's method iwae"), conflicting.err());
        assertEquals(1, Files.readAllLines(out.resolve("metrics.jsonl")).size(), "a refused resume trains nothing");
        // the original command's flags again, with a longer run: accepted
        CliRun more = run("train", "--method", "iwae", "--samples", "2", "--latent", "4", "--hidden", "16",
                "--train-limit", "100", "--epochs", "2", "--out", out.toString(), "--eval-samples", "5", "--resume");
        assertEquals(0, more.status(), more.err());
        assertEquals(2, Files.readAllLines(out.resolve("metrics.jsonl")).size());

        CliRun ev = run("eval", "--checkpoint", out.toString(), "--split", "both", "--limit", "6", "--nll-chains", "2",
                "--nll-temperatures", "5", "--nll-leapfrog", "2", "--nvlb-samples", "20");
        assertEquals(0, ev.status(), ev.err());
        EvalReport report = TableCommand.read(out);
        assertEquals(6, report.test().images());
        assertTrue(Double.isFinite(report.test().nll()) && report.test().nvlb() > 0);
        assertTrue(report.genGap() != null && report.train().images() == 6);
        assertFalse(report.protocol().paperProtocol());
        assertEquals(org.aiwae.train.RunFolder.readConfig(out), report.config());
        CliRun badSplit = run("eval", "--checkpoint", out.toString(), "--split", "val");
        assertEquals(2, badSplit.status());
        assertTrue(badSplit.err().contains("unknown split"), badSplit.err());
        CliRun badT = run("eval", "--checkpoint", out.toString(), "--nll-temperatures", "1");
        assertEquals(2, badT.status());
        CliRun missing = run("eval", "--checkpoint", dir.resolve("none").toString());
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("not a training run folder"), missing.err());
    }

    @Test
    void figuresAndTableFromTwoDimensionalRuns() throws Exception {
        Path run2 = dir.resolve("z2");
        assertEquals(0, run("train", "--method", "iwae", "--samples", "2", "--latent", "2", "--hidden", "16", "--train-limit", "200",
                "--epochs", "2", "--out", run2.toString(), "--eval-samples", "5").status());
        Path png = dir.resolve("posterior.png");
        CliRun p = run("posterior", "--checkpoint", run2 + "," + run2, "--out", png.toString(), "--images", "0,1,2", "--panel", "56");
        assertEquals(0, p.status(), p.err());
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
        assertEquals(4 + 3 * (56 + 4), img.getWidth());
        assertEquals(4 + 3 * (56 + 4), img.getHeight());
        // the heat map panel of the first image: a posterior has a peak (yellow) and low-density tails (dark)
        java.util.Set<Integer> colors = new java.util.HashSet<>();
        for (int y = 64; y < 64 + 56; y++) {
            for (int x = 4; x < 60; x++) {
                colors.add(img.getRGB(x, y) & 0xFFFFFF);
            }
        }
        assertTrue(colors.size() > 50 && colors.contains(org.aiwae.plot.Colormap.viridis(1)), colors.size() + " colours");
        assertTrue(p.out().contains("row 2: p(z|x) of iwae K=2"), p.out());

        Path samples = dir.resolve("samples.png");
        assertEquals(0, run("samples", "--checkpoint", run2.toString(), "--out", samples.toString(), "--grid", "3").status());
        assertEquals(4 + 3 * (3 * 56 + 16), javax.imageio.ImageIO.read(samples.toFile()).getWidth());

        Path wide = dir.resolve("wide");
        assertEquals(0, run("train", "--method", "iwae", "--samples", "1", "--latent", "3", "--hidden", "8", "--train-limit", "100",
                "--epochs", "1", "--out", wide.toString(), "--eval-samples", "2").status());
        CliRun notTwoD = run("posterior", "--checkpoint", wide.toString(), "--out", dir.resolve("w.png").toString());
        assertEquals(2, notTwoD.status());
        assertTrue(notTwoD.err().contains("2-d latent") && !Files.exists(dir.resolve("w.png")), notTwoD.err());
        CliRun notPng = run("samples", "--checkpoint", run2.toString(), "--out", dir.resolve("s.txt").toString());
        assertEquals(2, notPng.status());
        assertTrue(notPng.err().contains("FILE.png"), notPng.err());
        CliRun badIndex = run("posterior", "--checkpoint", run2.toString(), "--out", dir.resolve("b.png").toString(), "--images", "0,99999");
        assertEquals(2, badIndex.status());
        assertTrue(badIndex.err().contains("outside the test set"), badIndex.err());

        CliRun noEval = run("table", run2.toString());
        assertEquals(2, noEval.status());
        assertTrue(noEval.err().contains("no eval.json"), noEval.err());
        for (Path r : new Path[] {run2, wide}) {
            assertEquals(0, run("eval", "--checkpoint", r.toString(), "--split", "both", "--limit", "5", "--nll-chains", "2",
                    "--nll-temperatures", "3", "--nll-leapfrog", "1", "--nvlb-samples", "4").status());
        }
        CliRun t = run("table", run2.toString(), wide.toString());
        assertEquals(0, t.status(), t.err());
        java.util.List<String> lines = t.out().lines().toList();
        assertEquals("| | IWAE K=2 | IWAE K=1 |", lines.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("| NLL (test) | ") && l.split("\\|").length == 4), t.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("| active units | ")), t.out());
        assertTrue(t.out().contains("Protocol: reduced (AIS 2 chains x 3 temperatures"), t.out());
        Files.writeString(wide.resolve("eval.json"), "{\"test\": ");
        CliRun corrupt = run("table", wide.toString());
        assertEquals(2, corrupt.status());
        assertTrue(corrupt.err().contains("cannot read"), corrupt.err());
    }

    @Test
    void devicesAndUnavailableBackends() {
        CliRun d = run("devices");
        assertEquals(0, d.status(), d.err());
        assertTrue(d.out().lines().anyMatch(l -> l.startsWith("cpu") && l.contains("yes")), d.out());
        boolean cudaUsable = org.aiwae.kernels.Accelerators.list().stream().anyMatch(s -> s.backend().equals("cuda") && s.usable());
        if (!cudaUsable) { // a missing GPU is one line and exit 2, and nothing is written
            rejected("CUDA: ", "train", "--backend", "cuda");
        }
        CliRun tpu = run("eval", "--checkpoint", dir.toString(), "--backend", "tpu");
        assertEquals(2, tpu.status());
        assertTrue(tpu.err().contains("unknown backend"), tpu.err());
    }

    @Test
    void unknownCommandAndHelp() {
        assertEquals(2, run("fly").status());
        assertEquals(0, run("help").status());
        assertEquals(0, run("train", "--help").status());
        CliRun f = run("data", "fetch", "omniglot", "--data-dir", dir.toString());
        assertEquals(2, f.status());
        assertTrue(f.err().contains("cannot be fetched"), f.err());
    }

    @Test
    void typosGetOneLineWithASuggestion() {
        CliRun command = run("trian", "--epochs", "1");
        assertEquals(2, command.status());
        assertEquals(1, command.err().strip().lines().count(), command.err());
        assertTrue(command.err().startsWith("aiwae: unknown command 'trian'; did you mean train?"), command.err());
        CliRun option = run("train", "--sampels", "3");
        assertEquals(2, option.status());
        assertEquals(1, option.err().strip().lines().count(), option.err());
        assertTrue(option.err().startsWith("aiwae: train: unknown option --sampels; did you mean --samples?"), option.err());
        CliRun evalOption = run("eval", "--checkpoint", dir.toString(), "--nll-temperature=5");
        assertTrue(evalOption.status() == 2 && evalOption.err().contains("did you mean --nll-temperatures?"), evalOption.err());
        CliRun missing = run("eval");
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("--checkpoint") && missing.err().strip().lines().count() == 1, missing.err());
        assertEquals("", missing.out(), "no usage wall on an error");
    }

    /** Every subcommand's --help lists every one of its options, each with a description. */
    @Test
    void helpOfEverySubcommandDescribesEveryOption() {
        java.util.List<picocli.CommandLine> commands = new java.util.ArrayList<>(Main.commandLine().getSubcommands().values());
        commands.addAll(Main.commandLine().getSubcommands().get("data").getSubcommands().values());
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (picocli.CommandLine c : commands) {
            String[] path = c.getCommandSpec().qualifiedName(" ").replaceFirst("^aiwae ", "").split(" ");
            String[] args = java.util.Arrays.copyOf(path, path.length + 1);
            args[path.length] = "--help";
            CliRun h = run(args);
            assertEquals(0, h.status(), String.join(" ", args) + ": " + h.err());
            for (picocli.CommandLine.Model.OptionSpec o : c.getCommandSpec().options()) {
                assertFalse(o.hidden(), String.join(" ", args) + " hides " + o.longestName()); // no flag is only for tests
                assertTrue(h.out().contains(o.longestName()), String.join(" ", args) + " does not list " + o.longestName());
                assertTrue(o.description().length > 0 && !o.description()[0].isBlank(), o.longestName() + " has no description");
            }
            seen.add(path[path.length - 1]);
        }
        assertTrue(seen.containsAll(java.util.List.of("train", "eval", "table", "posterior", "samples", "bench", "devices", "fetch",
                "completion")), seen.toString());
        assertTrue(run("eval", "--help").out().contains("--batch=N"), "eval's --batch is documented");
        CliRun top = run("--help");
        assertEquals(0, top.status());
        assertTrue(top.out().contains("train") && top.out().contains("completion"), top.out());
    }

    @Test
    void versionAndCompletionScript() {
        CliRun v = run("--version");
        assertEquals(0, v.status(), v.err());
        assertTrue(v.out().matches("(?s)aiwae \\d+\\.\\d+\\.\\d+.*Java .*"), v.out());
        CliRun c = run("completion");
        assertEquals(0, c.status(), c.err());
        assertTrue(c.out().contains("complete -F") && c.out().contains("--nll-temperatures") && c.out().contains("posterior"), c.out());
        assertTrue(c.out().contains("vae iwae aiwae") || c.out().contains("\"vae\" \"iwae\" \"aiwae\""), "method choices complete");
    }

    /** README's table of training options names only flags that train (or, for --backend, every command) has. */
    @Test
    void readmeOptionsTableMatchesTrainHelp() throws Exception {
        Path readme = Files.isRegularFile(Path.of("../README.md")) ? Path.of("../README.md") : Path.of("README.md");
        java.util.List<String> rows = Files.readAllLines(readme).stream()
                .dropWhile(l -> !l.startsWith("| option | default | meaning |")).skip(2).takeWhile(l -> l.startsWith("| `--")).toList();
        assertTrue(rows.size() >= 10, "README's options table: " + rows);
        String help = run("train", "--help").out();
        int flags = 0;
        for (String row : rows) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("`(--[a-z-]+)").matcher(row.split("\\|")[1]);
            while (m.find()) {
                flags++;
                assertTrue(java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(m.group(1)) + "(?![a-z-])").matcher(help).find(),
                        "README's " + m.group(1) + " is not in 'aiwae train --help'");
            }
        }
        assertTrue(flags >= 17, flags + " flags in README's table");
    }
}
