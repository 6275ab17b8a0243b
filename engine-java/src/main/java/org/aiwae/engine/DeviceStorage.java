package org.aiwae.engine;

/**
 * The memory behind a device tensor: a buffer of floats in a device's memory, owned by the device backend
 * that {@link #placement()} names, which implements it and makes tensors on it with {@link Tensor#on}. A host
 * tensor has a {@code float[]} instead. Offsets and counts are in floats. Every method that moves data between
 * the host and the device is an explicit transfer (a device backend counts them); the others stay on the device.
 */
public interface DeviceStorage {

    /** The device backend whose memory this is. */
    Placement placement();

    /** Capacity in floats. */
    long floats();

    /** Copies {@code n} floats from {@code offset} into {@code dst[dstOff..]} (device to host; waits for the device). */
    void read(long offset, float[] dst, int dstOff, int n);

    /** Copies {@code n} floats from {@code src[srcOff..]} to {@code offset} (host to device). */
    void write(long offset, float[] src, int srcOff, int n);

    /** Sets {@code n} floats from {@code offset} to {@code value}, on the device. */
    void fill(long offset, long n, float value);

    /** Copies {@code n} floats from {@code src} (same placement) at {@code srcOffset} to {@code offset}, on the device. */
    void copy(long offset, DeviceStorage src, long srcOffset, long n);
}
