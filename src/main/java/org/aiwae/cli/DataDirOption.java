package org.aiwae.cli;

import java.nio.file.Path;
import org.aiwae.AiwaeException;
import org.aiwae.data.Datasets;
import org.aiwae.data.Split;
import picocli.CommandLine.Option;

/** {@code --data-dir}: where the datasets are. A picocli mixin. */
final class DataDirOption {
    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "where the datasets are: DIR or DIR/<dataset>/ holds the four IDX files (raw or .gz) or chardata.mat; "
                    + "default: $AIWAE_DATA, else ~/.cache/aiwae/data")
    Path dir;

    /** The dataset from this flag's folder. */
    Split load(String dataset) {
        return load(dataset, dir);
    }

    /** The dataset from folder {@code dir} (null: the default); when it is not there, one line saying how to get it. */
    static Split load(String dataset, Path dir) {
        try {
            return Datasets.load(dataset, dir);
        } catch (Datasets.NotFound e) {
            String get = e.dataset().equals("omniglot") ? "copy it there" : "run 'bin/aiwae data fetch " + e.dataset() + "'";
            throw new AiwaeException(e.getMessage() + "; " + get + " or pass --data-dir", e);
        }
    }
}
