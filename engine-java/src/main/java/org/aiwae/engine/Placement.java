package org.aiwae.engine;

/**
 * Where a tensor's memory lives: the host ({@link #HOST}) or one device backend. Every backend is a
 * placement (the CPU backend is a {@link Host}, computing on host memory); a tensor on a device names its
 * backend through {@link DeviceStorage#placement()}. Moving a tensor between placements is always explicit
 * ({@link Tensor#to}).
 */
public interface Placement {

    /** Host memory: tensors whose values are a {@code float[]} ({@link Tensor#data()}). */
    Placement HOST = new Host() {
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

    /** Host memory, as {@link #HOST} and the CPU backend have it: new tensors are {@code float[]} arrays. */
    interface Host extends Placement {
        @Override
        default String name() {
            return "cpu";
        }

        @Override
        default boolean isHost() {
            return true;
        }

        @Override
        default Tensor zeros(int... shape) {
            return Tensor.zeros(shape);
        }

        @Override
        default Tensor upload(Tensor host) {
            return host.to(HOST);
        }
    }
}
