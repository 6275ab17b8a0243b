package org.aiwae.eval;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.aiwae.AiwaeException;
import org.aiwae.FaultInjector;
import org.aiwae.data.Images;
import org.aiwae.engine.Tensor;
import org.aiwae.eval.ResultsFile.ImageResult;
import org.aiwae.io.AtomicFiles;
import org.aiwae.io.Json;
import org.aiwae.io.Progress;
import org.aiwae.model.LatentVariableModel;

/**
 * The evaluation of a trained model into a folder: for each split, NLL by AIS and NVLB of each chosen image,
 * appended to {@code eval-<split>.jsonl} ({@link ResultsFile}, fsynced per batch) as they are computed, so a
 * killed evaluation continues where it stopped; then the split's means. The images are evaluated here in
 * batches, or as contiguous image ranges elsewhere ({@link Shards}: each range into its own folder under
 * {@value #SHARDS}, so a retried range continues too), whose results are merged in image order: the same lines,
 * hence the same bytes, as here. Every image draws from its own random streams ({@link ImageStreams}), so its
 * result does not depend on batching, order, sharding or resumption.
 */
public final class Evaluation {
    /** The layout of {@code eval.json} and the results files' headers. */
    public static final int FORMAT = 2;
    /** The folder under the output folder where a sharded evaluation's ranges keep their results until merged. */
    public static final String SHARDS = "shards";

    private final LatentVariableModel model;
    private final String dataset;
    private final int epoch;
    private final Evaluator ev;
    private final long seed;
    private final String backend;
    private final Path out;

    /**
     * An evaluation of {@code model} into {@code out}, whose results files record the model's fingerprint with
     * {@code dataset} and {@code epoch}, the protocol of {@code ev}, {@code seed} and {@code backend} (where the
     * arithmetic runs). The caller holds {@code out}'s lock.
     */
    public Evaluation(LatentVariableModel model, String dataset, int epoch, Evaluator ev, long seed, String backend, Path out) {
        this.model = model;
        this.dataset = dataset;
        this.epoch = epoch;
        this.ev = ev;
        this.seed = seed;
        this.backend = backend;
        this.out = out;
    }

    /** The per-image results file of {@code split}. */
    public static String resultsName(String split) {
        return "eval-" + split + ".jsonl";
    }

    /** The files of an evaluation already in {@code out} ({@code eval.json} is {@code report}): empty when there is none. */
    public static List<Path> existing(Path out, String report) {
        List<Path> found = new ArrayList<>();
        for (String f : List.of(report, resultsName("test"), resultsName("train"))) {
            if (Files.exists(out.resolve(f), LinkOption.NOFOLLOW_LINKS)) {
                found.add(out.resolve(f));
            }
        }
        return found;
    }

    /** Image ranges evaluated elsewhere (a cluster's tasks). */
    public interface Shards {
        /** How many ranges {@code images} images are cut into. */
        int count(int images);

        /** Where they run, for the progress line ("on Spark"). */
        String where();

        /**
         * Evaluates each range (images {@code from} to {@code to - 1} of {@code split} into {@code folder}, continuing what
         * the folder holds) and returns the text of each range's results file, in the order given; a range that fails is
         * an exception whose message says so.
         */
        List<String> evaluate(List<Range> ranges);
    }

    /** Images {@code from} to {@code to - 1} of {@code split}, evaluated into {@code folder}. */
    public record Range(String split, int from, int to, Path folder) {
        /** The range as the progress lines name it, e.g. {@code test images 0:3}. */
        public String name() {
            return split + " images " + from + ":" + to;
        }

        /** The range's image indices, {@code from} to {@code to - 1}. */
        public int[] indices() {
            return IntStream.range(from, to).toArray();
        }
    }

    /**
     * Evaluates the images {@code idx} of {@code split} whose results its file does not hold yet, here or on
     * {@code shards} (null: here), and returns the split's means over {@code idx}, with the active units when
     * {@code activeUnits}. A results file written with another header is a {@link ResultsFile.Mismatch}.
     */
    public SplitResult split(String split, Images images, int[] idx, Shards shards, boolean activeUnits) {
        Map<Integer, ImageResult> results;
        ResultsFile.Header header = new ResultsFile.Header(FORMAT, split, dataset, images.count(), Evaluator.fingerprint(model), epoch,
                seed, backend, ev.protocol());
        try (ResultsFile file = ResultsFile.open(out.resolve(resultsName(split)), header)) {
            List<Integer> todo = new ArrayList<>();
            for (int i : idx) {
                if (!file.results().containsKey(i)) {
                    todo.add(i);
                }
            }
            if (shards == null) {
                evaluate(images, idx, todo, split, file);
            } else if (!todo.isEmpty()) {
                evaluateSharded(shards, todo, split, file);
            }
            results = file.results();
        }
        return summary(results, idx, split, activeUnits ? activity(images, idx) : null);
    }

    /** Removes the folder of the ranges once their results are merged (a failure to is a warning: the results are safe). */
    public void removeShards() {
        Path root = out.resolve(SHARDS);
        try {
            AtomicFiles.deleteTree(root);
        } catch (IOException e) {
            System.err.println("aiwae: could not remove " + root + " (" + e.getMessage() + "); the results are merged, delete it by hand");
        }
    }

    /** Evaluates the images of {@code todo} in batches, appending each batch. */
    private void evaluate(Images images, int[] idx, List<Integer> todo, String split, ResultsFile file) {
        ImageStreams streams = ImageStreams.of(seed, split);
        long aisUnits = 3L * ev.chains() * ev.leapfrog(), perImage = aisUnits * (ev.temperatures() - 1) + ev.nvlbSamples();
        int already = idx.length - todo.size();
        Progress bar = new Progress(System.err, "eval " + split + " images", perImage * idx.length).scaled(perImage)
                .resumedAt(perImage * already);
        if (already > 0) {
            System.err.println("aiwae: " + split + ": " + already + " of " + idx.length + " images already in "
                    + resultsName(split) + "; evaluating the other " + todo.size());
        }
        for (int from = 0; from < todo.size(); from += ev.batch()) {
            int[] b = todo.subList(from, Math.min(todo.size(), from + ev.batch())).stream().mapToInt(Integer::intValue).toArray();
            long base = perImage * (already + from);
            Tensor x = Evaluator.binarize(images, b, streams);
            String where = "images " + b[0] + (b.length > 1 ? ".." + b[b.length - 1] : "");
            double[] lp = ev.logLikelihood(model, x, streams, b, done -> bar.update(base + aisUnits * done,
                    "AIS temperature " + done / b.length + "/" + (ev.temperatures() - 1) + " of " + where));
            bar.update(base + aisUnits * (ev.temperatures() - 1) * b.length, "NVLB of " + where);
            double[] lb = ev.bound(model, x, streams, b);
            List<ImageResult> rs = new ArrayList<>();
            for (int i = 0; i < b.length; i++) {
                rs.add(new ImageResult(b[i], -lp[i], -lb[i]));
            }
            file.append(rs);
            FaultInjector.reach(new FaultInjector.Point.BatchWritten(out));
            bar.update(base + perImage * b.length, "");
        }
        bar.finish(perImage * idx.length, "");
    }

    /**
     * The images of {@code todo} as contiguous ranges on {@code shards}, then appended to {@code file} in image order
     * and batches of the evaluator's size: the same lines as {@link #evaluate}.
     */
    private void evaluateSharded(Shards shards, List<Integer> todo, String split, ResultsFile file) {
        int n = Math.min(todo.size(), Math.max(1, shards.count(todo.size())));
        Path root = out.toAbsolutePath().resolve(SHARDS);
        List<Range> ranges = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int from = todo.get((int) ((long) todo.size() * k / n)), to = todo.get((int) ((long) todo.size() * (k + 1) / n) - 1) + 1;
            ranges.add(new Range(split, from, to, root.resolve(split + "-" + from + "-" + to)));
        }
        System.err.println("aiwae: " + split + ": " + todo.size() + " images in " + n + " shards " + shards.where());
        List<String> texts = shards.evaluate(ranges);
        Map<Integer, ImageResult> merged = new TreeMap<>();
        for (int k = 0; k < ranges.size(); k++) {
            List<String> lines = texts.get(k).lines().toList();
            Path f = ranges.get(k).folder().resolve(resultsName(split));
            for (int l = 1; l < lines.size(); l++) {
                ImageResult r = Json.read(lines.get(l).getBytes(StandardCharsets.UTF_8), ImageResult.class, f + " line " + (l + 1), false);
                merged.put(r.image(), r);
            }
        }
        List<ImageResult> batch = new ArrayList<>();
        for (int i : todo) {
            ImageResult r = merged.get(i);
            if (r == null) {
                throw new AiwaeException("shard results lack image " + i + " of " + split + " (under " + root + ")");
            }
            batch.add(r);
            if (batch.size() == ev.batch()) {
                file.append(batch);
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            file.append(batch);
        }
    }

    /** Means over the chosen images, in image order (so the same whatever the batching or resumption). */
    private static SplitResult summary(Map<Integer, ImageResult> results, int[] idx, String split, double[] activity) {
        double nll = 0, nvlb = 0;
        int diverged = 0;
        for (int i : idx) {
            ImageResult r = results.get(i);
            if (r == null) {
                throw new IllegalStateException("image " + i + " of " + split + " was not evaluated");
            }
            nll += r.nll();
            nvlb += r.nvlb();
            diverged += r.finite() ? 0 : 1;
        }
        nll /= idx.length;
        nvlb /= idx.length;
        return new SplitResult(idx.length, idx[0] + ":" + (idx[idx.length - 1] + 1), resultsName(split), nll, nvlb,
                nvlb - nll, diverged, activity == null ? null : Evaluator.activeUnits(activity),
                activity == null ? null : Arrays.stream(activity).boxed().toList());
    }

    private double[] activity(Images images, int[] idx) {
        Progress bar = new Progress(System.err, "active units", idx.length);
        double[] act = Evaluator.activity(model, images.slice(idx[0], idx[idx.length - 1] + 1));
        bar.finish(idx.length, "");
        return act;
    }
}
