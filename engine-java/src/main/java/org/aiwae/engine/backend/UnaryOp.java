package org.aiwae.engine.backend;

/** Elementwise functions of one tensor: the closed set a backend must implement. */
public enum UnaryOp {
    NEG, EXP, LOG, TANH, SIGMOID, SOFTPLUS, SQUARE, SQRT;

    /** Reference scalar definition, evaluated in double with {@code StrictMath}; the CPU backend computes {@link FloatMath}'s float forms. */
    public double apply(double x) {
        return switch (this) {
            case NEG -> -x;
            case EXP -> StrictMath.exp(x);
            case LOG -> StrictMath.log(x);
            case TANH -> StrictMath.tanh(x);
            case SIGMOID -> x >= 0 ? 1 / (1 + StrictMath.exp(-x)) : StrictMath.exp(x) / (1 + StrictMath.exp(x));
            case SOFTPLUS -> Math.max(x, 0) + StrictMath.log1p(StrictMath.exp(-Math.abs(x)));
            case SQUARE -> x * x;
            case SQRT -> StrictMath.sqrt(x);
        };
    }
}
