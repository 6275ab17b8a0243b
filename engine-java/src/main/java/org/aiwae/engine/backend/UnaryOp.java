package org.aiwae.engine.backend;

/** Elementwise functions of one tensor: the closed set a backend must implement. */
public enum UnaryOp {
    NEG, EXP, LOG, TANH, SIGMOID, SOFTPLUS, SQUARE;

    /** Reference scalar definition, evaluated in double; backends may use faster float forms. */
    public double apply(double x) {
        return switch (this) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
            case SOFTPLUS -> Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
            case SQUARE -> x * x;
        };
    }
}
