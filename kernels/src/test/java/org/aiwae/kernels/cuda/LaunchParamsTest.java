package org.aiwae.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.List;
import java.util.function.ToLongFunction;
import org.aiwae.kernels.Device;
import org.aiwae.kernels.KernelCall;
import org.aiwae.kernels.KernelCall.Arg;
import org.junit.jupiter.api.Test;

/** The parameter block of a CUDA launch: each argument at its natural alignment, the size, the {@code extra} array. */
class LaunchParamsTest {
    private record Fake(long floats) implements Device.Buffer {}

    private static final Fake A = new Fake(1), B = new Fake(2);
    /** Device addresses as the device would give them; the placeholder for a null buffer is 0xD0. */
    private static final ToLongFunction<Device.Buffer> ADDRESS = b -> b == null ? 0xD0L : b == A ? 0x7f00_0000_1000L : 0x7f00_0000_2000L;

    private static ByteBuffer buffer(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.nativeOrder());
    }

    @Test
    void eightByteArgumentsAlignToEightAndFourByteOnesToFour() {
        List<Arg> args = List.of(new Arg.I32(7), new Arg.Buf(A), new Arg.I32(-1), new Arg.F32(1.5f), new Arg.I64(-3L << 40),
                new Arg.F32(-2f), new Arg.Buf(null), new Arg.I32(9));
        ByteBuffer into = buffer(256);
        int size = LaunchParams.pack(args, into, ADDRESS);
        assertEquals(7, into.getInt(0));
        assertEquals(0x7f00_0000_1000L, into.getLong(8)); // 4 bytes of padding before the pointer
        assertEquals(-1, into.getInt(16));
        assertEquals(1.5f, into.getFloat(20));            // packed right after the int
        assertEquals(-3L << 40, into.getLong(24));
        assertEquals(-2f, into.getFloat(32));
        assertEquals(0xD0L, into.getLong(40));             // a null buffer is the placeholder
        assertEquals(9, into.getInt(48));
        assertEquals(52, size, "the block ends at the last parameter, without trailing padding");
    }

    @Test
    void theBlockPointsTheDriverAtTheParametersAndTheirSize() {
        long at = 0x5000;
        ByteBuffer block = buffer(LaunchParams.BLOCK_BYTES);
        LaunchParams params = new LaunchParams(block, at);
        params.pack(List.of(new Arg.Buf(B), new Arg.I32(3)), ADDRESS);
        assertEquals(1, block.getLong(0));                 // CU_LAUNCH_PARAM_BUFFER_POINTER
        assertEquals(at + 48, block.getLong(8));
        assertEquals(2, block.getLong(16));                // CU_LAUNCH_PARAM_BUFFER_SIZE
        assertEquals(at + 40, block.getLong(24));
        assertEquals(0, block.getLong(32));                // CU_LAUNCH_PARAM_END
        assertEquals(12, block.getLong(40));
        assertEquals(0x7f00_0000_2000L, block.getLong(48));
        assertEquals(3, block.getInt(56));
        params.pack(List.of(new Arg.F32(1f)), ADDRESS);
        assertEquals(4, block.getLong(40), "each launch records its own size");
    }

    @Test
    void aCallOfTheKernelsPacksAsTheKernelDeclaresIt() {
        // sgemm: int m, n, k, then (pointer, int offset, int ld, int flag) for a, b and c, then bias, aux, epilogue
        KernelCall call = KernelCall.of("sgemm", KernelCall.Grid.linear(16)).i32(4).i32(5).i32(6)
                .buf(A).i32(0).i32(6).flag(false).buf(B).i32(2).i32(5).flag(true).buf(A).i32(0).i32(5).flag(false)
                .buf(null).buf(null).i32(0).build();
        ByteBuffer into = buffer(256);
        int size = LaunchParams.pack(call.args(), into, ADDRESS);
        assertEquals(6, into.getInt(8));
        assertEquals(0x7f00_0000_1000L, into.getLong(16), "a's pointer after m, n, k and 4 bytes of padding");
        assertEquals(0x7f00_0000_2000L, into.getLong(40));
        assertEquals(1, into.getInt(56));
        assertEquals(0x7f00_0000_1000L, into.getLong(64));
        assertEquals(0xD0L, into.getLong(88));
        assertEquals(0xD0L, into.getLong(96));
        assertEquals(0, into.getInt(104));
        assertEquals(108, size);
    }

    @Test
    void tooManyArgumentsForABlockAreAnError() {
        List<Arg> args = Collections.nCopies(LaunchParams.MAX_BYTES / 8 + 1, new Arg.I64(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LaunchParams.pack(args, buffer(LaunchParams.MAX_BYTES), ADDRESS));
        assertEquals("513 kernel arguments take more than the 4096 bytes of a parameter block", e.getMessage());
    }
}
