package org.aiwae.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @OnEveryDevice
    void decoder(String device) {
        DecoderBenchmark b = new DecoderBenchmark();
        b.batch = 8;
        secondInvocation(b, device, b::setup, b::logJointAndGradient, b::tearDown);
    }

    @OnEveryDevice
    void hmcTransition(String device) {
        HmcBenchmark b = new HmcBenchmark();
        b.batch = 8;
        secondInvocation(b, device, b::setup, b::transition, b::tearDown);
    }

    @OnEveryDevice
    void aisTemperatureSteps(String device) {
        AisBenchmark b = new AisBenchmark();
        b.images = 2;
        secondInvocation(b, device, b::setup, b::tenTemperatureSteps, b::tearDown);
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
