package org.aiwae.cli;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The checks of every output path flag ({@code train --out}, {@code eval --out}, {@code grid --runs},
 * the figures' {@code --out FILE.png}), before anything is created: each refusal is one line naming
 * the flag and the part of the path that is wrong.
 */
final class OutPath {
    private OutPath() {}

    /**
     * A folder that results go into (created if missing): not empty, not a file-system root, not an
     * existing file, and no part of the path above it a file or a broken link.
     */
    static Path folder(CommandSpec spec, String flag, Path p) {
        named(spec, flag, p);
        Path abs = p.toAbsolutePath().normalize();
        if (abs.getParent() == null) {
            throw new ParameterException(spec.commandLine(), flag + " " + p + " is the root of the file system; name a folder "
                    + "for the results");
        }
        String problem = notAFolder(abs);
        if (problem != null) {
            throw new ParameterException(spec.commandLine(), flag + " " + p + ": " + problem);
        }
        return p;
    }

    /** A file to write: not empty, not an existing folder, and its folder an existing folder. */
    static Path file(CommandSpec spec, String flag, Path p) {
        named(spec, flag, p);
        Path abs = p.toAbsolutePath().normalize();
        if (Files.isDirectory(abs)) {
            throw new ParameterException(spec.commandLine(), flag + " " + p + " is a folder; give a file name");
        }
        Path parent = abs.getParent();
        String problem = parent == null ? null : notAFolder(parent);
        if (problem == null && parent != null && !Files.isDirectory(parent)) {
            problem = "folder " + parent + " does not exist";
        }
        if (problem != null) {
            throw new ParameterException(spec.commandLine(), flag + " " + p + ": " + problem);
        }
        return p;
    }

    private static void named(CommandSpec spec, String flag, Path p) {
        if (p.toString().isBlank()) {
            throw new ParameterException(spec.commandLine(), flag + " is empty; give a path");
        }
    }

    /**
     * Why {@code abs} (absolute, normalised) cannot be a folder: the first part of it, from the top,
     * that exists but is a file or a link that cannot be followed (null when every part is a folder or absent).
     */
    private static String notAFolder(Path abs) {
        Path at = abs.getRoot();
        for (Path part : abs) {
            at = at.resolve(part);
            if (Files.isDirectory(at)) {
                continue;
            }
            if (Files.isSymbolicLink(at)) {
                return at + " is a symbolic link that leads nowhere (a loop or a missing target)";
            }
            if (Files.exists(at, LinkOption.NOFOLLOW_LINKS)) {
                return at + " is a file, not a folder";
            }
            return null; // absent from here on: created when written
        }
        return null;
    }
}
