package org.aiwae.model;

import java.util.function.IntConsumer;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.kernels.DeviceBackend;
import org.aiwae.kernels.DeviceGraph;
import org.aiwae.kernels.TemperatureClock;
import org.aiwae.sampler.Ais;

/**
 * AIS's temperatures on a device as one recorded temperature: temperature 1 runs directly (its buffers then come from
 * the pool, and it gives the Philox blocks a temperature draws), temperature 2 is recorded with the schedule's
 * {@link TemperatureClock} bound ({@link DeviceBackend#clocked}) and a tick of the clock at its end, and every
 * temperature from 2 on is one replay: one {@code cuGraphLaunch} on CUDA, the recorded command list on OpenCL, with no
 * host write or read in between. The replays compute what running each temperature directly computes, bit for bit.
 *
 * @param betas the run's inverse temperatures
 * @param noise the chains' streams, one per data point (advanced past the replayed draws at the end)
 */
record RecordedTemperatures(DeviceBackend backend, double[] betas, ChainNoise.PerGroup noise) implements Ais.Loop {

    @Override
    public void run(int last, IntConsumer temperature, IntConsumer done) {
        long before = noise.position();
        temperature.accept(1);
        done.accept(1);
        if (last < 2) {
            return;
        }
        long blocks = noise.position() - before;
        TemperatureClock clock = new TemperatureClock(backend, betas, 1);
        DeviceGraph<Void> graph;
        try (DeviceBackend.ClockBinding bound = backend.clocked(clock, 1, blocks)) {
            graph = backend.record(() -> {
                temperature.accept(2);
                clock.tick();
                return null;
            });
        }
        try (graph) {
            for (int t = 2; t <= last; t++) {
                graph.replay();
                done.accept(t);
            }
        }
        noise.skip((last - 2) * blocks); // recording drew temperature 2's blocks; the replays drew the rest on the device
    }
}
