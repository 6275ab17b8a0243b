package org.aiwae.cli;

import java.nio.file.Path;
import org.aiwae.AiwaeException;
import org.aiwae.plot.RunCurves;
import org.aiwae.train.Checkpoint;

/** A training run folder as the commands read it; what the user can do about a refusal is said in this command line's words. */
final class RunFolder {
    private RunFolder() {}

    /** The model of the newest checkpoint; a run without one names the command that continues it. */
    static Checkpoint.Loaded model(Path dir) {
        try {
            return Checkpoint.readModel(dir);
        } catch (Checkpoint.NoCheckpointYet e) {
            throw new AiwaeException(e.getMessage() + "; 'bin/aiwae train --resume --out " + e.dir() + "' continues it", e);
        } catch (Checkpoint.Damaged e) {
            throw new AiwaeException(e.getMessage() + "; 'bin/aiwae train --resume-from-last-good --out " + e.dir()
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
