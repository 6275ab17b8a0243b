package org.aiwae.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.aiwae.AiwaeException;

/** Command-line flags of one subcommand: {@code --name value}, {@code --name=value}, and switches. */
final class Args {
    private final String command;
    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    /**
     * @param options  flags that take a value
     * @param switches flags without a value
     */
    Args(String command, String[] args, int from, Set<String> options, Set<String> switches) {
        this.command = command;
        for (int i = from; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                positional.add(a);
                continue;
            }
            String name = a, value = null;
            int eq = a.indexOf('=');
            if (eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (switches.contains(name)) {
                if (value != null) {
                    throw new AiwaeException(command + ": " + name + " takes no value");
                }
                values.put(name, "true");
            } else if (options.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.length) {
                        throw new AiwaeException(command + ": " + name + " needs a value");
                    }
                    value = args[++i];
                }
                values.put(name, value);
            } else {
                List<String> known = new ArrayList<>(options);
                known.addAll(switches);
                java.util.Collections.sort(known);
                throw new AiwaeException(command + ": unknown option " + name + " (known: " + String.join(" ", known) + ")");
            }
        }
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    List<String> positional() {
        return positional;
    }

    String string(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    int integer(String name, int fallback) {
        long v = longValue(name, fallback);
        if (v != (int) v) {
            throw new AiwaeException(command + ": " + name + " is out of range, got " + v);
        }
        return (int) v;
    }

    long longValue(String name, long fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new AiwaeException(command + ": " + name + " must be an integer, got '" + v + "'");
        }
    }

    Path path(String name) {
        String v = values.get(name);
        return v == null ? null : Path.of(v);
    }

    /** Names of the options that were given. */
    Set<String> given() {
        return values.keySet();
    }
}
