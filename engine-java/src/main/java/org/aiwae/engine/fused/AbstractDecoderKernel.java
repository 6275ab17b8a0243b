package org.aiwae.engine.fused;

/**
 * What every backend's {@link DecoderKernel} holds: the decoder it evaluates and the rows it has buffers for (at least
 * one, checked here), with the widths of the decoder's layers.
 */
public abstract class AbstractDecoderKernel implements DecoderKernel {
    /** The decoder whose weights the kernel reads (again on {@link #refresh()}). */
    protected final TanhMlpDecoder decoder;
    /** The most rows of z one {@link #logJoint} call takes. */
    protected final int maxRows;
    /** The decoder's layers, the output layer included. */
    protected final int layers;

    protected AbstractDecoderKernel(TanhMlpDecoder decoder, int maxRows) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("decoder kernel: maxRows must be positive, got " + maxRows);
        }
        this.decoder = decoder;
        this.maxRows = maxRows;
        this.layers = decoder.layers();
    }

    @Override
    public final TanhMlpDecoder decoder() {
        return decoder;
    }

    @Override
    public final int maxRows() {
        return maxRows;
    }

    /** The width of layer {@code l}'s input (z's for layer 0). */
    protected final int in(int l) {
        return decoder.weights().get(l).dim(1);
    }

    /** The width of layer {@code l}'s output (the logits' for the last). */
    protected final int out(int l) {
        return decoder.width(l);
    }
}
