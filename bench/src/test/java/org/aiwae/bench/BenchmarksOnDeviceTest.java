package org.aiwae.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;
import org.aiwae.kernels.DeviceWork;
import org.aiwae.kernels.OnEveryDevice;
import org.aiwae.kernels.TestBackends;
import org.aiwae.kernels.WorkAudit;

/**
 * Every JMH benchmark with {@code -p backend=<device>}: its setup and two invocations, the second audited as JMH audits each
 * iteration ({@link OnBackend}), so the invocation issued device ops and ran no primitive on the CPU: the model,
 * the data, the optimiser state and the chains live on the device. opencl runs on PoCL in CI
 * ({@code AIWAE_REQUIRE_OPENCL}); cuda where a GPU is. Reduced sizes where the benchmark has a size
 * parameter, so that it takes seconds.
 */
class BenchmarksOnDeviceTest {

    /**
     * Setup, a first invocation, a second one audited, teardown: what the second one ran. Two invocations, as JMH
     * makes, so that state one invocation leaves for the next (pooled buffers, step sizes, recorded graphs) is used
     * as in a timed run.
     */
    private static <B extends OnBackend> DeviceWork secondInvocation(B bench, String device, Runnable setup, Supplier<?> invocation,
                                                          Runnable tearDown) {
        TestBackends.device(device); // skips (or, where AIWAE_REQUIRE_<DEVICE> is set, fails) without the device
        bench.backend = device;
        setup.run();
        try {
            invocation.get();
            bench.startAudit();
            invocation.get();
            WorkAudit.Ran ran = bench.ran(bench.getClass().getSimpleName() + " on " + device);
            System.err.println(bench.getClass().getSimpleName() + " on " + device + ": " + ran.device());
            assertEquals(0, ran.cpuCalls());
            assertTrue(ran.device().launches() > 0, "kernels were launched: " + ran.device());
            return ran.device();
        } finally {
            tearDown.run();
        }
    }

    @OnEveryDevice
    void trainingSteps(String device) {
        for (String config : new String[] {"aiwae:2:3:2:8", "iwae:3:1:1:4"}) {
            TrainingStepBenchmark b = new TrainingStepBenchmark();
            b.config = config;
            DeviceWork work = secondInvocation(b, device, b::setup, b::step, b::tearDown);
            assertEquals(1, work.hostWrites(), config + ": only the step's random stream key goes up (the batch is there): " + work);
            assertEquals(4, work.floatsWritten(), config + ": " + work);
            assertEquals(1, work.hostReads(), config + ": the benchmark waits for the step by reading its loss: " + work);
        }
    }

    /**
     * The model's benchmarks on 8 images (AIS on 2): the fused decoder's log p and gradient are one launch, an HMC transition
     * reads back its acceptance and nothing else, and none of them (ten AIS temperatures included) uploads anything.
     */
    @OnEveryDevice
    void decoderHmcAndAis(String device) {
        DecoderBenchmark decoder = new DecoderBenchmark();
        HmcBenchmark hmc = new HmcBenchmark();
        AisBenchmark ais = new AisBenchmark();
        decoder.batch = hmc.batch = 8;
        ais.images = 2;
        DeviceWork d = secondInvocation(decoder, device, decoder::setup, decoder::logJointAndGradient, decoder::tearDown);
        DeviceWork h = secondInvocation(hmc, device, hmc::setup, hmc::transition, hmc::tearDown);
        DeviceWork a = secondInvocation(ais, device, ais::setup, ais::tenTemperatureSteps, ais::tearDown);
        assertEquals(1, d.launches(), "log p and its gradient: one launch of the fused decoder: " + d);
        assertEquals(1, h.hostReads(), "an HMC transition reads back its acceptance and nothing else: " + h);
        assertEquals(List.of(0L, 0L, 0L), List.of(d.hostWrites(), h.hostWrites(), a.hostWrites()),
                "host writes of the decoder, HMC and AIS: the chains, the data and the keys are on the device");
    }

    @OnEveryDevice
    void matmul(String device) {
        MatmulBenchmark b = new MatmulBenchmark();
        b.shape = "64x20x30:TN";
        DeviceWork work = secondInvocation(b, device, b::setup, b::matmul, b::tearDown);
        assertEquals(1, work.launches(), "one sgemm: " + work);
    }

    @OnEveryDevice
    void launches(String device) {
        for (String kernel : new String[] {"binary_op", "sgemm"}) {
            LaunchBenchmark b = new LaunchBenchmark();
            b.kernel = kernel;
            DeviceWork work = secondInvocation(b, device, b::setup, b::launch, b::tearDown);
            assertEquals(LaunchBenchmark.LAUNCHES, work.launches(), kernel + ": " + work);
            assertEquals(1, work.hostReads(), kernel + ": " + work);
        }
    }

    @OnEveryDevice
    void recordedSequence(String device) {
        for (String mode : new String[] {"eager", "replay"}) {
            GraphBenchmark b = new GraphBenchmark();
            b.mode = mode;
            DeviceWork work = secondInvocation(b, device, b::setup, b::run, b::tearDown);
            assertEquals(GraphBenchmark.OPS, work.ops(), mode + ": " + work);
            assertEquals(mode.equals("replay") ? 1 : 0, work.replays(), mode + ": " + work);
        }
    }
}
