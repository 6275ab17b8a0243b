package org.aiwae.engine.backend;

/** Reductions along one axis. */
public enum ReduceOp {
    SUM, MAX;

    private final String label = "reduce " + name();

    /** How errors name a reduction by this op ({@code "reduce SUM"}), built once. */
    public String label() {
        return label;
    }
}
