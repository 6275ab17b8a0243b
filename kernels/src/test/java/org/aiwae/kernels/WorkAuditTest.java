package org.aiwae.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.CpuBackend;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.backend.UnaryOp;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.engine.random.RandomStream;
import org.junit.jupiter.api.Test;

/**
 * The audit that the benchmarks put around their timed work: the CPU backend counts one call per primitive
 * whatever its size, and {@link WorkAudit} refuses device work among which a CPU primitive ran, device work that
 * issued nothing, and CPU work that ran no CPU primitive, each with one line naming what ran where.
 */
class WorkAuditTest {
    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    @Test
    void theCpuBackendCountsOneCallPerPrimitiveWhateverItsSize() {
        RandomStream rng = new RandomStream(1);
        Tensor a = rng.normal(300, 300), b = rng.normal(300, 300), out = Tensor.zeros(300, 300), row = rng.normal(300);
        long before = CPU.calls();
        CPU.matmul(a, false, b, true, out, false);
        assertEquals(before + 1, CPU.calls(), "one product of 300 x 300 x 300");
        CPU.unary(UnaryOp.TANH, a);
        CPU.binary(BinaryOp.ADD, a, row);
        CPU.binary(BinaryOp.MUL, a, 2f);
        CPU.reduce(ReduceOp.MAX, a, 0);
        CPU.sumTo(a, new int[] {300});
        CPU.where(row, a, b);
        assertEquals(before + 7, CPU.calls(), "one per map, broadcast, scalar op, reduction, sum to a shape and select");
        TanhMlpDecoder decoder = new TanhMlpDecoder(List.of(rng.normal(8, 4), rng.normal(6, 8)), List.of(rng.normal(8), rng.normal(6)));
        CPU.decoder(decoder, 16).logJoint(rng.normal(16, 4), rng.uniform(16, 6), Tensor.zeros(16), Tensor.zeros(16, 4));
        assertEquals(before + 8, CPU.calls(), "one per fused decoder evaluation of 16 rows");
        a.copy().fill(1f).copyFrom(b);
        assertEquals(before + 8, CPU.calls(), "copies and fills of host memory are not computation");
    }

    @Test
    void cpuWorkMustRunCpuPrimitives() {
        WorkAudit audit = WorkAudit.start(CPU);
        WorkAudit.Misplaced none = assertThrows(WorkAudit.Misplaced.class, () -> audit.check("nothing"));
        assertEquals("nothing: the timed work ran no primitive on cpu (its tensors live on a device); no figure reported",
                none.getMessage());
        CPU.unary(UnaryOp.EXP, Tensor.zeros(3));
        WorkAudit.Ran ran = audit.check("an exp");
        assertEquals(1, ran.cpuCalls());
        assertNull(ran.device());
    }

    @OnEveryDevice
    void deviceWorkPassesOnlyWhenItIssuedDeviceOpsAndNoCpuPrimitive(String name) {
        DeviceBackend dev = TestBackends.device(name);
        Tensor onDevice = new RandomStream(2).normal(40, 30).to(dev), onHost = new RandomStream(3).normal(40, 30);

        WorkAudit idle = WorkAudit.start(dev);
        WorkAudit.Misplaced nothing = assertThrows(WorkAudit.Misplaced.class, () -> idle.check("idle"));
        assertTrue(nothing.getMessage().startsWith("idle: the timed work meant for " + name + " issued no " + name + " op (0 ops"),
                nothing.getMessage());

        WorkAudit clean = WorkAudit.start(dev);
        dev.unary(UnaryOp.TANH, dev.binary(BinaryOp.MUL, onDevice, 3f)).get(0, 0);
        WorkAudit.Ran ran = clean.check("two maps");
        assertEquals(0, ran.cpuCalls());
        assertEquals(2, ran.device().launches(), "two launches: " + ran.device());
        assertEquals(1, ran.device().hostReads(), "one float came back: " + ran.device());

        // the bug the audit exists for: the model or the data left on the host while the backend is a device
        WorkAudit mixed = WorkAudit.start(dev);
        dev.unary(UnaryOp.TANH, onDevice);
        Backend host = CPU;
        host.binary(BinaryOp.ADD, onHost, onHost);
        host.reduce(ReduceOp.SUM, onHost, 1);
        WorkAudit.Misplaced fellBack = assertThrows(WorkAudit.Misplaced.class, () -> mixed.check("IWAE step"));
        assertTrue(fellBack.getMessage().startsWith("IWAE step: the timed work meant for " + name
                + " ran 2 primitive calls on cpu beside 1 " + name + " ops"), fellBack.getMessage());
        assertTrue(fellBack.getMessage().endsWith("no figure reported") && !fellBack.getMessage().contains("\n"), fellBack.getMessage());

        // and the reverse: work timed as the CPU's that ran on the device
        WorkAudit cpu = WorkAudit.start(CPU);
        dev.unary(UnaryOp.EXP, onDevice);
        assertThrows(WorkAudit.Misplaced.class, () -> cpu.check("cpu step"));
    }
}
