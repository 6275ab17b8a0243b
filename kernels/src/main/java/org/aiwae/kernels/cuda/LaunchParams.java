package org.aiwae.kernels.cuda;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.ToLongFunction;
import org.aiwae.kernels.Device;
import org.aiwae.kernels.KernelCall;

/**
 * One block of host memory that carries a launch's arguments to {@code cuLaunchKernel} through its
 * {@code extra} parameter: the arguments packed as the kernel's parameter block (each at its natural
 * alignment, as the compiler lays out the parameters: device pointers and {@code long long} 8 bytes,
 * {@code int} and {@code float} 4), its size, and the {@code extra} array
 * {@code {CU_LAUNCH_PARAM_BUFFER_POINTER, params, CU_LAUNCH_PARAM_BUFFER_SIZE, &size, CU_LAUNCH_PARAM_END}}
 * pointing at both. The driver copies the parameters when the launch is issued (or captured), so one
 * block serves every launch of a device. Layout: the extra array (5 words), the size (1 word), then the
 * parameters.
 */
final class LaunchParams {
    /** CUDA's {@code CU_LAUNCH_PARAM_*} markers. */
    private static final long END = 0, BUFFER_POINTER = 1, BUFFER_SIZE = 2;
    private static final int SIZE_AT = 5 * 8, PARAMS_AT = 6 * 8;
    /** The driver's limit on a kernel's parameter block before CUDA 12.1 (ours are about 100 bytes). */
    static final int MAX_BYTES = 4096;
    /** The bytes a block needs. */
    static final int BLOCK_BYTES = PARAMS_AT + MAX_BYTES;

    private final ByteBuffer block;
    private final ByteBuffer params;

    /** Lays out the block in {@code block} (native byte order, {@link #BLOCK_BYTES} long), which lives at {@code address}. */
    LaunchParams(ByteBuffer block, long address) {
        if (block.capacity() < BLOCK_BYTES || (address & 7) != 0) {
            throw new IllegalArgumentException("a launch block needs " + BLOCK_BYTES + " bytes at an 8-byte aligned address");
        }
        this.block = block;
        params = block.slice(PARAMS_AT, MAX_BYTES).order(block.order());
        block.putLong(0, BUFFER_POINTER);
        block.putLong(8, address + PARAMS_AT);
        block.putLong(16, BUFFER_SIZE);
        block.putLong(24, address + SIZE_AT);
        block.putLong(32, END);
    }

    /** Packs {@code args} (a buffer argument as the device address {@code address} gives) and records the block's size. */
    void pack(List<KernelCall.Arg> args, ToLongFunction<Device.Buffer> address) {
        block.putLong(SIZE_AT, pack(args, params, address));
    }

    /**
     * Writes {@code args} into {@code into} (from index 0) in the kernel's parameter layout and returns the
     * block's size in bytes (the end of the last parameter).
     */
    static int pack(List<KernelCall.Arg> args, ByteBuffer into, ToLongFunction<Device.Buffer> address) {
        int at = 0;
        for (int i = 0, n = args.size(); i < n; i++) {
            KernelCall.Arg a = args.get(i);
            int size = a instanceof KernelCall.Arg.Buf || a instanceof KernelCall.Arg.I64 ? 8 : 4;
            at = (at + size - 1) & -size;
            if (at + size > into.capacity()) {
                throw new IllegalArgumentException(n + " kernel arguments take more than the " + into.capacity() + " bytes of a parameter block");
            }
            switch (a) {
                case KernelCall.Arg.Buf b -> into.putLong(at, address.applyAsLong(b.buffer()));
                case KernelCall.Arg.I32 v -> into.putInt(at, v.value());
                case KernelCall.Arg.I64 v -> into.putLong(at, v.value());
                case KernelCall.Arg.F32 v -> into.putFloat(at, v.value());
            }
            at += size;
        }
        return at;
    }
}
