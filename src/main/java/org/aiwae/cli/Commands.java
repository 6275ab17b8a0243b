package org.aiwae.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A task's work as {@code aiwae} command lines (a grid cell's train and eval), run in order in the executor's
 * JVM ({@link Main#run}); a non-zero status fails the attempt with the command's last error line. The result is
 * the text of {@code resultFile} afterwards (null: none). A task that the cluster gave a GPU runs its CUDA
 * commands on that device: {@code --backend cuda} becomes {@code --backend cuda:N} for GPU address N.
 */
record Commands(String task, List<List<String>> commands, String resultFile) implements TaskRunner.Work {
    private static final long serialVersionUID = 1L;

    @Override
    public String run(String gpu) throws IOException {
        List<List<String>> all = new ArrayList<>();
        for (List<String> given : commands) {
            all.add(gpu == null ? given : onDevice(given, gpu, task));
        }
        if (!all.equals(commands)) {
            announce(task, gpu);
        }
        for (List<String> command : all) {
            LastLine err = new LastLine();
            int status = Main.run(command.toArray(String[]::new), new PrintWriter(err, true));
            if (status != 0) {
                throw new IllegalStateException("aiwae task " + task + ": " + command.get(0) + " exited with status " + status
                        + (err.last().isEmpty() ? "" : ": " + err.last()));
            }
        }
        return resultFile == null ? null : Files.readString(Path.of(resultFile), StandardCharsets.UTF_8);
    }

    /** Says on the executor's log that task {@code task} runs on the GPU the cluster gave it. */
    static void announce(String task, String gpu) {
        System.err.println("aiwae: " + task + ": Spark gave this task GPU " + gpu + ": it runs with --backend cuda:" + gpu);
    }

    /**
     * The backend {@code cuda:GPU} for the GPU address a cluster gave task {@code task}; an address that is not a
     * device ordinal fails the task.
     */
    static String cuda(String gpu, String task) {
        if (!gpu.matches("\\d{1,4}")) {
            throw new IllegalStateException("aiwae task " + task + ": Spark gave it GPU address '" + gpu + "', which is not a "
                    + "CUDA device ordinal; the GPU discovery script must report ordinals (nvidia-smi's index)");
        }
        return "cuda:" + gpu;
    }

    /**
     * {@code command} with {@code --backend cuda} (or {@code --backend=cuda}) replaced by {@code --backend cuda:GPU};
     * the same list when it does not run on CUDA. A GPU address that is not a device ordinal fails the task.
     */
    static List<String> onDevice(List<String> command, String gpu, String task) {
        List<String> out = new ArrayList<>(command);
        boolean changed = false;
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).equals("--backend=cuda") || out.get(i).equals("cuda") && i > 0 && out.get(i - 1).equals("--backend")) {
                out.set(i, out.get(i).replace("cuda", cuda(gpu, task)));
                changed = true;
            }
        }
        return changed ? out : command;
    }

    /** Passes everything to System.err (the executor's log) and keeps the last line that is not blank. */
    private static final class LastLine extends Writer {
        private final StringBuilder line = new StringBuilder();
        private String last = "";

        @Override
        public void write(char[] c, int off, int len) {
            System.err.print(new String(c, off, len));
            for (int i = off; i < off + len; i++) {
                if (c[i] == '\n') {
                    if (!line.toString().isBlank()) {
                        last = line.toString().strip();
                    }
                    line.setLength(0);
                } else {
                    line.append(c[i]);
                }
            }
        }

        String last() {
            return line.toString().isBlank() ? last : line.toString().strip();
        }

        @Override
        public void flush() {
            System.err.flush();
        }

        @Override
        public void close() {
            flush();
        }
    }
}
