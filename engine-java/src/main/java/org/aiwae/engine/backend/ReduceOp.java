package org.aiwae.engine.backend;

/** Reductions along one axis. */
public enum ReduceOp {
    SUM, MAX
}
