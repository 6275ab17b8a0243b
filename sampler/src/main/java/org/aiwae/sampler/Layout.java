package org.aiwae.sampler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;

/**
 * Named parameter blocks laid side by side in one position: a small pytree of tensors. A model with
 * an 8-vector {@code theta} and scalars {@code mu} and {@code tau} is
 * {@code Layout.of(block("theta", 8), block("mu", 1), block("tau", 1))}; N chains' positions are
 * then one {@code [N, 10]} tensor (what HMC moves), and a log density written over the blocks
 * ({@link #logDensity}) receives each as a {@code [N, size]} variable.
 *
 * @param blocks the blocks in the order they are laid out; names unique, sizes at least 1
 */
public record Layout(List<Block> blocks) {

    /** One named block of {@code size} unconstrained reals. */
    public record Block(String name, int size) {
        public Block {
            if (name == null || name.isEmpty() || size < 1) {
                throw new IllegalArgumentException("a block needs a name and a size of at least 1, got " + name + " of size " + size);
            }
        }
    }

    public Layout {
        blocks = List.copyOf(blocks);
        if (blocks.isEmpty()) {
            throw new IllegalArgumentException("a layout needs at least one block");
        }
        if (blocks.stream().map(Block::name).distinct().count() != blocks.size()) {
            throw new IllegalArgumentException("block names repeat in " + blocks);
        }
    }

    public static Layout of(Block... blocks) {
        return new Layout(List.of(blocks));
    }

    public static Block block(String name, int size) {
        return new Block(name, size);
    }

    /** The total dimension D of a position. */
    public int dim() {
        return blocks.stream().mapToInt(Block::size).sum();
    }

    /** Where block {@code name} starts in a position. */
    public int offset(String name) {
        int off = 0;
        for (Block b : blocks) {
            if (b.name().equals(name)) {
                return off;
            }
            off += b.size();
        }
        throw new IllegalArgumentException("no block named '" + name + "' in " + names());
    }

    public int size(String name) {
        return blocks.get(index(name)).size();
    }

    private int index(String name) {
        for (int i = 0; i < blocks.size(); i++) {
            if (blocks.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no block named '" + name + "' in " + names());
    }

    public List<String> names() {
        return blocks.stream().map(Block::name).toList();
    }

    /**
     * Names of the position's coordinates, as Stan prints them: {@code theta[1]} .. {@code theta[8]} for a
     * block of 8, the bare name for a block of 1.
     */
    public List<String> coordinates() {
        List<String> out = new ArrayList<>();
        for (Block b : blocks) {
            for (int i = 1; i <= b.size(); i++) {
                out.add(b.size() == 1 ? b.name() : b.name() + "[" + i + "]");
            }
        }
        return out;
    }

    /** The blocks of positions {@code [N, D]} as variables {@code [N, size]} (slices: gradients flow back). */
    public Map<String, Var> split(Var positions) {
        if (positions.value().rank() != 2 || positions.value().dim(1) != dim()) {
            throw new IllegalArgumentException("positions must be [N, " + dim() + "] for " + names() + ", got "
                    + java.util.Arrays.toString(positions.shape()));
        }
        Map<String, Var> out = new LinkedHashMap<>();
        int off = 0;
        for (Block b : blocks) {
            out.put(b.name(), Ops.slice(positions, off, off + b.size()));
            off += b.size();
        }
        return out;
    }

    /**
     * N positions {@code [N, D]} on the host from each block's values, {@code [N * size]} chain by chain
     * (a block missing from {@code values} is an error naming it).
     */
    public Tensor positions(int chains, Map<String, float[]> values) {
        Tensor out = Tensor.zeros(chains, dim());
        for (Block b : blocks) {
            float[] v = values.get(b.name());
            if (v == null || v.length != chains * b.size()) {
                throw new IllegalArgumentException("block '" + b.name() + "' needs " + chains + " x " + b.size() + " values, got "
                        + (v == null ? "none" : v.length));
            }
            int off = offset(b.name());
            for (int n = 0; n < chains; n++) {
                System.arraycopy(v, n * b.size(), out.data(), out.offset() + n * dim() + off, b.size());
            }
        }
        return out;
    }

    /**
     * The log density {@code f} computes from the blocks (each {@code [N, size]}) as {@code [N]}, over positions
     * {@code [N, D]}, its gradient by reverse-mode autodiff ({@link LogDensity#autodiff}).
     */
    public LogDensity logDensity(Function<Map<String, Var>, Var> f) {
        return LogDensity.autodiff(z -> f.apply(split(z)));
    }
}
