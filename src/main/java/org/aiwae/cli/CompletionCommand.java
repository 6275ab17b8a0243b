package org.aiwae.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code aiwae completion}: a bash (and zsh) completion script for every command and option. */
@Command(name = "completion", header = "print a bash completion script: bin/aiwae completion > aiwae.bash",
        description = {"Prints a bash/zsh completion script for every command, option and choice: "
                + "'bin/aiwae completion > aiwae.bash; source aiwae.bash' (or put it in /etc/bash_completion.d/)."})
final class CompletionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        System.out.print(AutoComplete.bash("aiwae", spec.root().commandLine()));
        System.out.flush();
        return 0;
    }
}
