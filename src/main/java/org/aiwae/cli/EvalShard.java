package org.aiwae.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.aiwae.AiwaeException;
import org.aiwae.data.Split;
import org.aiwae.engine.backend.Backend;
import org.aiwae.eval.Evaluation;
import org.aiwae.eval.Evaluator;
import org.aiwae.train.CheckpointReader;
import org.aiwae.train.RunLock;

/**
 * One image range of a sharded {@code aiwae eval}, run in a cluster's executor: the same {@link Evaluation} on
 * images {@code from} to {@code to - 1} of {@code split}, into the range's own folder (continuing what an earlier
 * attempt wrote there, under that folder's lock); the result is the text of its results file. Paths are strings
 * (a task is serialised to the executor).
 */
record EvalShard(String checkpoint, String dataDir, String split, int from, int to, int chains, int temperatures, int leapfrog,
                 int nvlbSamples, int batch, long seed, String backend, String folder, boolean graphs) implements TaskRunner.Work {
    private static final long serialVersionUID = 1L;

    @Override
    public String run(String gpu) throws IOException {
        Evaluation.Range range = new Evaluation.Range(split, from, to, Path.of(folder));
        String on = backend;
        if (gpu != null && backend.equals("cuda")) {
            on = Commands.cuda(gpu, range.name());
            Commands.announce(range.name(), gpu);
        }
        CheckpointReader.Loaded<?> run = RunArgument.model(Path.of(checkpoint));
        Split data = DataDirOption.load(run.config().dataset(), dataDir == null ? null : Path.of(dataDir));
        Path out = range.folder();
        try (Backend b = BackendOption.open(on)) {
            Files.createDirectories(out);
            try (RunLock lock = RunLock.acquire(out, "folder")) {
                Evaluator ev = new Evaluator(chains, temperatures, leapfrog, nvlbSamples, batch, b, graphs);
                new Evaluation(run.model(), run.config().dataset(), run.epoch(), ev, seed, b.name(), out)
                        .split(split, EvalCommand.images(data, split), range.indices(), null, false);
            }
        } catch (IOException e) {
            throw new AiwaeException("cannot create " + out + ": " + e.getMessage());
        }
        return Files.readString(out.resolve(Evaluation.resultsName(split)), StandardCharsets.UTF_8);
    }
}
