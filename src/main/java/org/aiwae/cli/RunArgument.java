package org.aiwae.cli;

import java.nio.file.Path;
import org.aiwae.AiwaeException;
import org.aiwae.plot.RunCurves;
import org.aiwae.model.MlpVae;
import org.aiwae.train.CheckpointReader;
import org.aiwae.train.CheckpointSums;
import org.aiwae.train.DamagedCheckpoint;
import org.aiwae.train.NoCheckpointYet;

/** A training run folder as the commands read it; what the user can do about a refusal is said in this command line's words. */
final class RunArgument {
    private RunArgument() {}

    /**
     * The model of the newest checkpoint, checked against its SHA-256 (a checkpoint of an older version
     * without sums gets a one-line warning); a run without one names the command that continues it, a
     * damaged one the command that continues from the newest intact checkpoint.
     */
    static CheckpointReader.Loaded<MlpVae> model(Path dir) {
        if (dir.toString().isBlank()) {
            throw new AiwaeException("--checkpoint is empty; give a run folder");
        }
        try {
            CheckpointReader.Loaded<MlpVae> loaded = CheckpointReader.readModel(dir);
            if (loaded.unverified() != null) {
                System.err.println("aiwae: " + CheckpointSums.unchecked(loaded.unverified()));
            }
            return loaded;
        } catch (NoCheckpointYet e) {
            throw new AiwaeException(e.getMessage() + "; 'bin/aiwae train --resume --out " + dir + "' continues it", e);
        } catch (DamagedCheckpoint e) {
            throw new AiwaeException(e.getMessage() + "; 'bin/aiwae train --resume-from-last-good --out " + dir
                    + "' continues the run from its newest intact checkpoint", e);
        }
    }

    /** The run's learning curves; a missing folder or metrics file is the user's to fix (one line, exit 2). */
    static RunCurves curves(Path dir) {
        try {
            return RunCurves.read(dir);
        } catch (IllegalArgumentException e) {
            throw new AiwaeException(e.getMessage());
        }
    }
}
