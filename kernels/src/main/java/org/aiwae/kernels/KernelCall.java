package org.aiwae.kernels;

import java.util.ArrayList;
import java.util.List;

/**
 * One kernel launch, the same for every {@link Device}: the kernel's name in {@code aiwae_body.h}, the
 * launch geometry, and the arguments typed as the kernel declares them. Built by {@link Kernels}, where
 * each kernel's argument order is written once; a device only translates the entries to its API.
 */
public record KernelCall(String name, Grid grid, List<Arg> args) {

    public KernelCall {
        args = List.copyOf(args);
    }

    /**
     * Groups of {@code localX x localY} work-items (OpenCL work-groups, CUDA thread blocks), arranged
     * {@code groupsX x groupsY}: OpenCL's global size is groups x local, CUDA's grid is the groups.
     */
    public record Grid(int groupsX, int groupsY, int localX, int localY) {
        /** The work-group size of the one-dimensional kernels. */
        public static final int LINEAR_GROUP = 64;

        public Grid {
            if (groupsX < 0 || groupsY < 0 || localX < 1 || localY < 1) {
                throw new IllegalArgumentException("grid " + groupsX + "x" + groupsY + " of " + localX + "x" + localY);
            }
        }

        /** At least {@code items} work-items in groups of {@link #LINEAR_GROUP}; the kernel ignores those beyond its count. */
        public static Grid linear(int items) {
            return new Grid(Math.max(0, (items + LINEAR_GROUP - 1) / LINEAR_GROUP), 1, LINEAR_GROUP, 1);
        }

        /** {@code groups} groups of {@code local} work-items in one dimension. */
        public static Grid groups(int groups, int local) {
            return new Grid(Math.max(0, groups), 1, local, 1);
        }

        /**
         * One group of {@code local x local} work-items per {@code tile x tile} block of a {@code rows x cols}
         * output: x runs over columns, y over rows.
         */
        public static Grid tiles(int rows, int cols, int tile, int local) {
            return new Grid(Math.max(0, (cols + tile - 1) / tile), Math.max(0, (rows + tile - 1) / tile), local, local);
        }

        /** 1 or 2. */
        public int dims() {
            return groupsY == 1 && localY == 1 ? 1 : 2;
        }

        /** No work-item: the launch is skipped. */
        public boolean empty() {
            return groupsX == 0 || groupsY == 0;
        }
    }

    /** An argument as the kernel declares it. */
    public sealed interface Arg {
        /** A {@code GLOBAL T*}; a null buffer is passed as a one-element placeholder (for arguments the kernel does not read). */
        record Buf(Device.Buffer buffer) implements Arg {}

        /** An {@code int}, or the bits of a {@code uint}. */
        record I32(int value) implements Arg {
            private static final int CACHED_FROM = -16, CACHED_TO = 1024;
            private static final I32[] CACHE = new I32[CACHED_TO - CACHED_FROM];

            static {
                for (int i = 0; i < CACHE.length; i++) {
                    CACHE[i] = new I32(CACHED_FROM + i);
                }
            }

            /** The argument {@code value}; the small values most launches pass (sizes, offsets, strides, flags, ordinals) are shared. */
            public static I32 of(int value) {
                return value >= CACHED_FROM && value < CACHED_TO ? CACHE[value - CACHED_FROM] : new I32(value);
            }
        }

        /** An {@code int64} (OpenCL {@code long}, CUDA {@code long long}). */
        record I64(long value) implements Arg {}

        record F32(float value) implements Arg {}

    }

    public static Builder of(String name, Grid grid) {
        return new Builder(name, grid);
    }

    /** Appends arguments in the kernel's order. */
    public static final class Builder {
        /** Room for the longest argument list of the kernels without growing. */
        private static final int TYPICAL_ARGS = 24;

        private final String name;
        private final Grid grid;
        private final List<Arg> args = new ArrayList<>(TYPICAL_ARGS);

        private Builder(String name, Grid grid) {
            this.name = name;
            this.grid = grid;
        }

        public Builder buf(Device.Buffer b) {
            args.add(new Arg.Buf(b));
            return this;
        }

        public Builder i32(int v) {
            args.add(Arg.I32.of(v));
            return this;
        }

        /** A flag as the kernels take it: an {@code int}, 1 or 0. */
        public Builder flag(boolean v) {
            return i32(v ? 1 : 0);
        }

        public Builder i64(long v) {
            args.add(new Arg.I64(v));
            return this;
        }

        public Builder f32(float v) {
            args.add(new Arg.F32(v));
            return this;
        }

        public KernelCall build() {
            return new KernelCall(name, grid, args);
        }
    }
}
