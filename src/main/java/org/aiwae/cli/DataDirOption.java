package org.aiwae.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --data-dir}: where the datasets are. A picocli mixin. */
final class DataDirOption {
    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "where the datasets are: DIR or DIR/<dataset>/ holds the four IDX files (raw or .gz) or chardata.mat; "
                    + "default: $AIWAE_DATA, else ~/.cache/aiwae/data")
    Path dir;
}
