package org.aiwae.engine.backend;

/**
 * Elementwise functions of two broadcast tensors: the closed set a backend must implement.
 * {@code TANH_GRAD} and {@code SIGMOID_GRAD} take (upstream gradient, forward output) and exist so
 * that a backward pass costs one sweep, not three. {@code LESS} gives 1 where {@code a < b} and 0
 * elsewhere (NaN compares false): the Metropolis test's mask; it has no gradient.
 */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, TANH_GRAD, SIGMOID_GRAD, LESS;

    private final String label = name().toLowerCase(java.util.Locale.ROOT);

    /** The name in messages, lower case. */
    public String label() {
        return label;
    }

    /** Reference scalar definition. */
    public double apply(double a, double b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case TANH_GRAD -> a * (1 - b * b);
            case SIGMOID_GRAD -> a * b * (1 - b);
            case LESS -> a < b ? 1 : 0;
        };
    }
}
