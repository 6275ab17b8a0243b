package org.aiwae.kernels;

/**
 * Copies between the host and a device so far: how many calls and how many floats each way
 * ({@link DeviceBackend#transfers()}). The test that an op on device tensors never falls back to
 * the host counts these around a training step.
 */
public record Transfers(long toDevice, long floatsToDevice, long toHost, long floatsToHost) {

    /** The copies made between {@code before} and this count. */
    public Transfers since(Transfers before) {
        return new Transfers(toDevice - before.toDevice, floatsToDevice - before.floatsToDevice, toHost - before.toHost,
                floatsToHost - before.floatsToHost);
    }

    @Override
    public String toString() {
        return toDevice + " to the device (" + floatsToDevice + " floats), " + toHost + " to the host (" + floatsToHost + " floats)";
    }
}
