package org.aiwae.engine;

/**
 * Where a tensor's storage lives: host memory ({@link #HOST}) or one device backend. Every
 * backend is a placement; a tensor on a device names its backend through {@link DeviceStorage#placement()}.
 * Moving a tensor between placements is always explicit ({@link Tensor#to}).
 */
public interface Placement {

    /** Host memory: a {@code float[]}; the CPU backend computes on it. */
    Placement HOST = new Placement() {
        @Override
        public String name() {
            return "cpu";
        }

        @Override
        public boolean isHost() {
            return true;
        }

        @Override
        public Tensor zeros(int... shape) {
            return Tensor.zeros(shape);
        }

        @Override
        public Tensor upload(Tensor host) {
            return host;
        }

        @Override
        public String toString() {
            return "cpu";
        }
    };

    /** A short name such as {@code cpu}, {@code opencl} or {@code cuda}. */
    String name();

    /** True for host memory (the CPU backend). */
    default boolean isHost() {
        return false;
    }

    /** A new tensor of zeros in this placement's memory. */
    Tensor zeros(int... shape);

    /**
     * A new tensor in this placement's memory whose contents are undefined: for an output that is written in
     * full before it is read (a product's result, a copy), so a device does not fill it first. The host's is zeros.
     */
    default Tensor empty(int... shape) {
        return zeros(shape);
    }

    /** {@code host}'s values in this placement's memory (host itself when this is the host). */
    Tensor upload(Tensor host);
}
