package org.aiwae.engine.fused;

import java.util.List;
import org.aiwae.engine.Shapes;
import org.aiwae.engine.Tensor;

/**
 * The decoder family the backends run as one fused kernel: a standard normal prior on z, hidden
 * layers {@code h = tanh(W h + b)}, and Bernoulli outputs with logits {@code W h + b}.
 * Weights are {@code [out, in]} like PyTorch's {@code Linear}; the tensors are shared, not copied,
 * so a kernel built on them sees updates after {@link DecoderKernel#refresh()}.
 *
 * @param weights one matrix per layer, the last one producing the logits
 * @param biases  one vector per layer
 */
public record TanhMlpDecoder(List<Tensor> weights, List<Tensor> biases) {

    public TanhMlpDecoder {
        weights = List.copyOf(weights);
        biases = List.copyOf(biases);
        if (weights.isEmpty() || weights.size() != biases.size()) {
            throw new IllegalArgumentException("TanhMlpDecoder: needs one bias per weight, got "
                    + weights.size() + " weights and " + biases.size() + " biases");
        }
        for (int l = 0; l < weights.size(); l++) {
            Tensor w = weights.get(l);
            Tensor b = biases.get(l);
            if (w.rank() != 2 || b.rank() != 1 || b.dim(0) != w.dim(0)
                    || (l > 0 && w.dim(1) != weights.get(l - 1).dim(0))) {
                throw new IllegalArgumentException("TanhMlpDecoder: layer " + l + " has weight "
                        + Shapes.str(w.shape()) + " and bias " + Shapes.str(b.shape()));
            }
        }
    }

    /** Dimension of z. */
    public int latent() {
        return weights.get(0).dim(1);
    }

    /** Dimension of x. */
    public int data() {
        return weights.get(weights.size() - 1).dim(0);
    }

    /** Number of layers including the output layer. */
    public int layers() {
        return weights.size();
    }

    /** Width of the output of layer {@code l}. */
    public int width(int l) {
        return weights.get(l).dim(0);
    }
}
