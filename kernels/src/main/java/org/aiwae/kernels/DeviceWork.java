package org.aiwae.kernels;

/**
 * The work a {@link DeviceBackend} has issued to its device so far: kernel launches, copies and fills on
 * the device (together its device operations), and copies between the host and the device: reads (device
 * to host, each one a point where the host waits) and writes (host to device), with the floats they moved;
 * and the replays of recorded work ({@link DeviceGraph}), whose launches, copies and fills count among the
 * others each time they run.
 * {@code bin/aiwae bench} prints it per training step; tests count it around a step to check that nothing
 * falls back to the host and that a step's device work does not grow.
 */
public record DeviceWork(long launches, long copies, long fills, long hostReads, long floatsRead, long hostWrites,
                         long floatsWritten, long replays) {

    /** Launches, device copies and fills. */
    public long ops() {
        return launches + copies + fills;
    }

    /** The work issued between {@code before} and this count. */
    public DeviceWork since(DeviceWork before) {
        return new DeviceWork(launches - before.launches, copies - before.copies, fills - before.fills, hostReads - before.hostReads,
                floatsRead - before.floatsRead, hostWrites - before.hostWrites, floatsWritten - before.floatsWritten,
                replays - before.replays);
    }

    /**
     * {@code device work per step: N ops (L launches, C copies, F fills), H host reads, W host writes}, and
     * {@code , R replays} where work was replayed, each count divided by {@code steps} (averages with one decimal
     * where they are not whole).
     */
    public String perStep(long steps) {
        return "device work per step: " + avg(ops(), steps) + " ops (" + avg(launches, steps) + " launches, " + avg(copies, steps)
                + " copies, " + avg(fills, steps) + " fills), " + avg(hostReads, steps) + " host reads, " + avg(hostWrites, steps)
                + " host writes" + (replays == 0 ? "" : ", " + avg(replays, steps) + " replays");
    }

    private static String avg(long count, long steps) {
        if (steps <= 0) {
            throw new IllegalArgumentException("steps must be positive, got " + steps);
        }
        return count % steps == 0 ? Long.toString(count / steps) : String.format(java.util.Locale.ROOT, "%.1f", (double) count / steps);
    }

    @Override
    public String toString() {
        return ops() + " ops (" + launches + " launches, " + copies + " copies, " + fills + " fills), " + hostReads + " host reads ("
                + floatsRead + " floats), " + hostWrites + " host writes (" + floatsWritten + " floats)"
                + (replays == 0 ? "" : ", " + replays + " replays");
    }
}
