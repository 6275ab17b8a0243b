package org.aiwae.engine;

/**
 * The memory behind a tensor: a host {@code float[]} ({@link Host}) or a buffer of one device
 * backend ({@link DeviceStorage}, implemented by the kernels module). A tensor's storage never
 * changes placement; {@link Tensor#to} copies into a new one.
 */
public sealed interface Storage permits Storage.Host, DeviceStorage {

    /** Where this storage lives. */
    Placement placement();

    /** Host memory. */
    record Host(float[] data) implements Storage {
        @Override
        public Placement placement() {
            return Placement.HOST;
        }
    }
}
