package org.aiwae.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.aiwae.AiwaeException;

/**
 * Finds and loads the datasets by name. Files are looked for in one data folder: the one given
 * (the command line's {@code --data-dir}), else {@code $AIWAE_DATA}, else {@code ~/.cache/aiwae/data}; in that folder or in a
 * subfolder named after the dataset. Fashion-MNIST is also found where Debian's
 * {@code dataset-fashion-mnist} package installs it.
 */
public final class Datasets {
    public static final List<String> NAMES = List.of("embedded", "mnist", "fashion-mnist", "omniglot");
    static final Path DEBIAN_FASHION = Path.of("/usr/share/datasets/fashion-mnist");
    private static final String[] IDX_FILES = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

    /** The side of every dataset's images: each is a 28 x 28 image. */
    public static final int SIDE = 28;

    private Datasets() {}

    /** Pixels per image of dataset {@code name} ({@value #SIDE} x {@value #SIDE} for each): the width of a model of its images. */
    public static int pixels(String name) {
        if (!NAMES.contains(name)) {
            throw new AiwaeException("unknown dataset '" + name + "'; choose one of " + String.join(", ", NAMES));
        }
        return SIDE * SIDE;
    }

    /** A dataset's files are not in the data folder: the message names the folders looked in. */
    public static final class NotFound extends AiwaeException {
        private final String dataset;

        NotFound(String dataset, String message) {
            super(message);
            this.dataset = dataset;
        }

        /** The dataset's name ({@code mnist}, ...). */
        public String dataset() {
            return dataset;
        }
    }

    /** The data folder: {@code given} when not null, else {@code AIWAE_DATA}, else the cache under the home folder. */
    public static Path dataDir(Path given) {
        if (given != null) {
            return given;
        }
        String env = System.getenv("AIWAE_DATA");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return cacheDir();
    }

    public static Path cacheDir() {
        return Path.of(System.getProperty("user.home"), ".cache", "aiwae", "data");
    }

    /**
     * Loads a dataset by name from data folder {@code given} (null: the default, see {@link #dataDir});
     * files that are not there are a {@link NotFound} naming where they were looked for.
     */
    public static Split load(String name, Path given) {
        Path dir = dataDir(given);
        return switch (name) {
            case "embedded" -> embedded();
            case "mnist" -> idx("mnist", List.of(dir, dir.resolve("mnist")));
            case "fashion-mnist" -> idx("fashion-mnist", List.of(dir, dir.resolve("fashion-mnist"), DEBIAN_FASHION));
            case "omniglot" -> {
                for (Path p : List.of(dir.resolve("chardata.mat"), dir.resolve("omniglot").resolve("chardata.mat"))) {
                    if (present(p)) {
                        yield Omniglot.read(p);
                    }
                }
                throw new NotFound(name, "Omniglot not found: no chardata.mat (the IWAE study's) in " + dir + " or "
                        + dir.resolve("omniglot"));
            }
            default -> throw new AiwaeException("unknown dataset '" + name + "'; choose one of " + String.join(", ", NAMES));
        };
    }

    private static Split idx(String name, List<Path> dirs) {
        List<String> looked = new ArrayList<>();
        for (Path d : dirs) {
            Path[] files = new Path[4];
            boolean all = true;
            for (int i = 0; i < 4; i++) {
                files[i] = find(d, IDX_FILES[i]);
                all &= files[i] != null;
            }
            if (all) {
                Images train = Idx.read(files[0], files[1], name + "/train");
                Images test = Idx.read(files[2], files[3], name + "/test");
                checkSize(train);
                checkSize(test);
                return new Split(name, train, test);
            }
            looked.add(d.toString());
        }
        throw new NotFound(name, name + " not found (looked for " + IDX_FILES[0] + "[.gz] and its three companions in "
                + String.join(", ", looked) + ")");
    }

    private static void checkSize(Images images) {
        if (images.rows() != SIDE || images.cols() != SIDE) {
            throw new AiwaeException(images.name() + ": images are " + images.rows() + "x" + images.cols()
                    + "; the models expect " + SIDE + "x" + SIDE);
        }
    }

    private static Path find(Path dir, String base) {
        for (String name : new String[] {base, base + ".gz"}) {
            Path p = dir.resolve(name);
            if (present(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * Whether data file {@code p} is there: a regular file (or a link to one) is; nothing at all is not;
     * anything else in its place (a folder, a link that leads nowhere or in a loop) is one line naming it,
     * not a dataset that was never fetched.
     */
    static boolean present(Path p) {
        if (Files.isRegularFile(p)) {
            return true;
        }
        if (Files.isDirectory(p)) {
            throw new AiwaeException(p + " is a folder, not a data file");
        }
        if (Files.isSymbolicLink(p)) {
            throw new AiwaeException(p + " is a symbolic link that leads nowhere (a loop or a missing target)");
        }
        if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new AiwaeException(p + " is not a regular file");
        }
        return false;
    }

    /** The small MNIST subset packed in the jar: the first 2,000 training and 500 test digits. */
    public static Split embedded() {
        return new Split("embedded", resource("train", 0, 1), resource("test", 2, 3));
    }

    private static Images resource(String split, int images, int labels) {
        String base = "/org/aiwae/data/embedded/";
        try (InputStream in = gz(base + IDX_FILES[images] + ".gz"); InputStream lin = gz(base + IDX_FILES[labels] + ".gz")) {
            return Idx.read(in, "embedded " + IDX_FILES[images], lin, "embedded " + IDX_FILES[labels], "embedded/" + split);
        } catch (IOException e) {
            throw new AiwaeException("the embedded dataset is damaged: " + e.getMessage(), e);
        }
    }

    private static InputStream gz(String resource) throws IOException {
        InputStream in = Datasets.class.getResourceAsStream(resource);
        if (in == null) {
            throw new IOException("missing resource " + resource);
        }
        return new GZIPInputStream(in);
    }
}
