package org.aiwae.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.aiwae.engine.Placement;
import org.aiwae.engine.autodiff.Ops;
import org.aiwae.engine.autodiff.Var;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.engine.random.RandomStream;

/**
 * The paper's model (Appendix A, after the IWAE study): encoder {@code D-H-H} with tanh giving
 * the mean and log standard deviation of a diagonal Gaussian q(z|x); decoder {@code Z-H-H-D}
 * with tanh and Bernoulli outputs; standard normal prior. The paper uses D=784, H=200, Z=50.
 * Parameter names follow PyTorch ({@code enc.l1.weight} and so on).
 */
public final class MlpVae implements LatentVariableModel {
    private final int data;
    private final int hidden;
    private final int latent;
    private final Linear enc1, enc2, encMu, encLogSigma, dec1, dec2, decOut;

    private MlpVae(int data, int hidden, int latent, Linear[] layers) {
        this.data = data;
        this.hidden = hidden;
        this.latent = latent;
        this.enc1 = layers[0];
        this.enc2 = layers[1];
        this.encMu = layers[2];
        this.encLogSigma = layers[3];
        this.dec1 = layers[4];
        this.dec2 = layers[5];
        this.decOut = layers[6];
    }

    /** A freshly initialised model (PyTorch's default Linear initialisation) drawn from {@code rng}. */
    public static MlpVae create(int data, int hidden, int latent, RandomStream rng) {
        if (data < 1 || hidden < 1 || latent < 1) {
            throw new IllegalArgumentException("MlpVae: sizes must be positive, got data=" + data + " hidden=" + hidden
                    + " latent=" + latent);
        }
        return new MlpVae(data, hidden, latent, new Linear[] {
            Linear.init("enc.l1", data, hidden, rng),
            Linear.init("enc.l2", hidden, hidden, rng),
            Linear.init("enc.mu", hidden, latent, rng),
            Linear.init("enc.logsigma", hidden, latent, rng),
            Linear.init("dec.l1", latent, hidden, rng),
            Linear.init("dec.l2", hidden, hidden, rng),
            Linear.init("dec.out", hidden, data, rng),
        });
    }

    /**
     * This model with its parameters in {@code where}'s memory (a device backend: every op of a
     * training step then runs there); itself when they are there already.
     */
    public MlpVae to(Placement where) {
        Linear[] layers = {enc1, enc2, encMu, encLogSigma, dec1, dec2, decOut};
        Linear[] moved = new Linear[layers.length];
        boolean same = true;
        for (int i = 0; i < layers.length; i++) {
            moved[i] = layers[i].to(where);
            same &= moved[i] == layers[i];
        }
        return same ? this : new MlpVae(data, hidden, latent, moved);
    }

    public int hidden() {
        return hidden;
    }

    @Override
    public int latentDim() {
        return latent;
    }

    @Override
    public int dataDim() {
        return data;
    }

    @Override
    public List<Var> generativeParameters() {
        return List.of(dec1.weight(), dec1.bias(), dec2.weight(), dec2.bias(), decOut.weight(), decOut.bias());
    }

    @Override
    public List<Var> inferenceParameters() {
        return List.of(enc1.weight(), enc1.bias(), enc2.weight(), enc2.bias(), encMu.weight(), encMu.bias(),
                encLogSigma.weight(), encLogSigma.bias());
    }

    /** Bernoulli logits of p(x|z), {@code [..., Z] -> [..., D]}. */
    public Var decode(Var z) {
        return Ops.tanhMlp(z, List.of(dec1.weight(), dec2.weight(), decOut.weight()), List.of(dec1.bias(), dec2.bias(), decOut.bias()),
                false);
    }

    @Override
    public Var logJoint(Var x, Var z) {
        return Ops.add(Ops.bernoulliLogProb(decode(z), x), Ops.standardNormalLogProb(z));
    }

    /** With the standard normal prior and a diagonal Gaussian q the KL term is in closed form. */
    @Override
    public Optional<Var> elboWithClosedFormKl(Var x, Posterior q, Var z) {
        if (!(q instanceof DiagonalGaussian g)) {
            return Optional.empty();
        }
        return Optional.of(Ops.sub(Ops.bernoulliLogProb(decode(z), x), Ops.gaussianKlToStandardNormal(g.mu(), g.logSigma())));
    }

    @Override
    public DiagonalGaussian posterior(Var x) {
        Var h = Ops.tanhMlp(x, List.of(enc1.weight(), enc2.weight()), List.of(enc1.bias(), enc2.bias()), true);
        return new DiagonalGaussian(encMu.apply(h), encLogSigma.apply(h));
    }

    @Override
    public Map<String, Var> namedParameters() {
        Map<String, Var> m = new LinkedHashMap<>();
        for (Linear l : new Linear[] {enc1, enc2, encMu, encLogSigma, dec1, dec2, decOut}) {
            m.put(l.name() + ".weight", l.weight());
            m.put(l.name() + ".bias", l.bias());
        }
        return m;
    }

    @Override
    public Optional<TanhMlpDecoder> fusedDecoder() {
        return Optional.of(new TanhMlpDecoder(
                List.of(dec1.weight().value(), dec2.weight().value(), decOut.weight().value()),
                List.of(dec1.bias().value(), dec2.bias().value(), decOut.bias().value())));
    }
}
