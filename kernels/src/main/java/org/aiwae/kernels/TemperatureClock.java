package org.aiwae.kernels;

import org.aiwae.engine.Tensor;

/**
 * An AIS schedule's per-temperature scalars in device memory, so that one temperature recorded with
 * {@link DeviceBackend#record} replays at every temperature: step i is the move from {@code betas[i]} to
 * {@code betas[i + 1]}, with the tempered path's weights {@code b1 = (float) betas[i + 1]}, {@code b0 = 1 - b1} and the
 * reweighting increment {@code dbeta = (float) (betas[i + 1] - betas[i])}, the floats AIS passes to the kernels when it
 * runs directly. The device holds {@code [i, (b0, b1, dbeta) of every step]} (one host write); {@link #tick} moves it to
 * the next step on the device, and launches issued under {@link DeviceBackend#clocked} read their step's values there.
 */
public final class TemperatureClock {
    /** The most steps: the step index is a float on the device, exact below 2^24. */
    public static final int MAX_STEPS = 1 << 24;

    private final DeviceBackend backend;
    private final float[] rows;
    private final Tensor table;

    /** The clock of {@code betas} on {@code backend}, at step {@code start}. */
    public TemperatureClock(DeviceBackend backend, double[] betas, int start) {
        int steps = betas.length - 1;
        if (steps < 1 || steps > MAX_STEPS || start < 0 || start >= steps) {
            throw new IllegalArgumentException("a temperature clock needs 2 to " + (MAX_STEPS + 1) + " inverse temperatures and a start step "
                    + "among them, got " + betas.length + " and step " + start);
        }
        this.backend = backend;
        this.rows = new float[3 * steps];
        float[] values = new float[1 + 3 * steps];
        values[0] = start;
        for (int i = 0; i < steps; i++) {
            float b1 = (float) betas[i + 1];
            rows[3 * i] = 1 - b1;
            rows[3 * i + 1] = b1;
            rows[3 * i + 2] = (float) (betas[i + 1] - betas[i]);
        }
        System.arraycopy(rows, 0, values, 1, rows.length);
        this.table = backend.upload(Tensor.of(values, values.length));
    }

    /** The number of steps. */
    public int steps() {
        return rows.length / 3;
    }

    /** Step i's {@code b0}, {@code b1} ({@code k} = 0, 1) or {@code dbeta} ({@code k} = 2), as the device holds it. */
    float value(int step, int k) {
        return rows[3 * step + k];
    }

    /** Moves the clock to the next step (one launch). */
    public void tick() {
        backend.kernels().aisTick(buffer());
    }

    Device.Buffer buffer() {
        return backend.buffer(table);
    }

    DeviceBackend backend() {
        return backend;
    }
}
