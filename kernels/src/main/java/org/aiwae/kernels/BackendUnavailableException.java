package org.aiwae.kernels;

/** A device backend cannot run here; the message says why in one line (no driver, no device, no PTX). */
public final class BackendUnavailableException extends RuntimeException {
    public BackendUnavailableException(String message) {
        super(message);
    }
}
