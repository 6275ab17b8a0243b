package org.aiwae.cli;

import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --graph on|off}: whether a device records a training step (train, bench) or an AIS temperature (eval) once and
 * replays it (a picocli mixin).
 */
final class GraphOption {
    @Option(names = "--graph", paramLabel = "on|off", defaultValue = "on", converter = OnOff.class, completionCandidates = Choices.class,
            description = "on a device, record the training step once per minibatch shape (eval: one AIS temperature per batch of "
                    + "images) and replay it (one graph launch on CUDA; the same bits as off, which runs every step directly); "
                    + "no effect on the CPU; default: ${DEFAULT-VALUE}")
    String value;

    /** Whether --graph is on. */
    boolean on() {
        return value.equals("on");
    }

    static final class Choices extends java.util.ArrayList<String> {
        Choices() {
            super(List.of("on", "off"));
        }
    }

    static final class OnOff implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!value.equals("on") && !value.equals("off")) {
                throw new TypeConversionException("'" + value + "' is not on or off");
            }
            return value;
        }
    }
}
