package org.aiwae.kernels;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.fused.AbstractDecoderKernel;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.kernels.Kernels.Epilogue;
import org.aiwae.kernels.Kernels.Matrix;
import org.aiwae.kernels.Kernels.Slice;

/**
 * The fused decoder on a device: log p(x, z) and d/dz for up to {@code maxRows} rows, in one of two launch
 * sequences chosen at construction.
 *
 * <p>One launch ({@code decoder_rows}) where the decoder has two hidden layers whose rows fit a group's local
 * memory ({@link Kernels#decoderFits}; the model's 50 -> 200 -> 200 -> 784 does): the kernel reads z, x and the
 * weights where they are and writes log p and the gradient where they go, so with every tensor on this device
 * an evaluation is that launch and nothing else. Host tensors go through buffers of the kernel's own: x is
 * uploaded when a new tensor is passed (the last one is remembered by identity), the weights on
 * {@link #refresh()}.
 *
 * <p>Otherwise seven launches (sgemm with bias/tanh epilogues per layer, {@code bernoulli_rows}, sgemm back
 * through each layer) on intermediates in buffers allocated once, with z, x, the weights and the outputs
 * copied into and out of the kernel's own buffers.
 */
final class DeviceDecoderKernel extends AbstractDecoderKernel {
    private final Device device;
    private final Kernels kernels;
    private final boolean oneLaunch;
    /** The kernel's own copies of the weights and biases; null where the one launch reads a device tensor in place. */
    private final Device.Buffer[] w, b;
    /** Where the one launch reads each layer's weights and biases (set by {@link #refresh()}). */
    private final Slice[] wAt, bAt;
    /** The seven launches' intermediates: act[l] the output of layer l (tanh, or the logits), back[l] d logp / d its pre-activation. */
    private final Device.Buffer[] act, back;
    private final Device.Buffer z, x, logp, gz;
    private Tensor lastX;
    private int lastXRows;

    DeviceDecoderKernel(Kernels kernels, TanhMlpDecoder decoder, int maxRows) {
        this(kernels, decoder, maxRows, takesOneLaunch(decoder));
    }

    /** With {@code oneLaunch} false, the seven-launch sequence whatever the decoder (the parity tests run both). */
    DeviceDecoderKernel(Kernels kernels, TanhMlpDecoder decoder, int maxRows, boolean oneLaunch) {
        super(decoder, maxRows);
        if (oneLaunch && !takesOneLaunch(decoder)) {
            throw new IllegalArgumentException("decoder_rows takes two hidden layers that fit a group's local memory, not "
                    + decoder.latent() + " -> ... -> " + decoder.data() + " in " + decoder.layers() + " layers");
        }
        this.kernels = kernels;
        this.device = kernels.device();
        this.oneLaunch = oneLaunch;
        w = new Device.Buffer[layers];
        b = new Device.Buffer[layers];
        wAt = new Slice[layers];
        bAt = new Slice[layers];
        act = new Device.Buffer[oneLaunch ? 0 : layers];
        back = new Device.Buffer[oneLaunch ? 0 : layers];
        for (int l = 0; l < layers; l++) {
            Tensor wt = decoder.weights().get(l), bt = decoder.biases().get(l);
            w[l] = oneLaunch && PooledStorage.slice(device, wt) != null ? null : device.alloc(wt.size());
            b[l] = oneLaunch && PooledStorage.slice(device, bt) != null ? null : device.alloc(bt.size());
            if (!oneLaunch) {
                act[l] = device.alloc((long) maxRows * decoder.width(l));
                back[l] = device.alloc((long) maxRows * decoder.width(l));
            }
        }
        z = device.alloc((long) maxRows * decoder.latent());
        x = device.alloc((long) maxRows * decoder.data());
        logp = device.alloc(maxRows);
        gz = device.alloc((long) maxRows * decoder.latent());
        refresh();
    }

    /** Whether {@code decoder_rows} takes this decoder: two hidden layers that fit a group's local memory. */
    static boolean takesOneLaunch(TanhMlpDecoder decoder) {
        return decoder.layers() == 3 && Kernels.decoderFits(decoder.latent(), decoder.width(0), decoder.width(1));
    }

    /** Whether evaluations are one launch ({@code decoder_rows}) rather than seven. */
    boolean oneLaunch() {
        return oneLaunch;
    }

    @Override
    public void refresh() {
        for (int l = 0; l < layers; l++) {
            wAt[l] = read(decoder.weights().get(l), w[l]);
            bAt[l] = read(decoder.biases().get(l), b[l]);
        }
    }

    /** Where a kernel reads {@code t}: in place when {@code own} is null, else copied (uploaded) into {@code own}. */
    private Slice read(Tensor t, Device.Buffer own) {
        if (own == null) {
            return PooledStorage.slice(device, t);
        }
        PooledStorage.put(device, own, t);
        return new Slice(own, 0);
    }

    @Override
    public void logJoint(Tensor zs, Tensor xs, Tensor logpOut, Tensor gradZ) {
        int n = DecoderKernel.checkRows(this, zs, xs, logpOut, gradZ);
        if (oneLaunch) {
            Slice zAt = PooledStorage.slice(device, zs), lpAt = logpOut == null ? null : PooledStorage.slice(device, logpOut);
            Slice gAt = gradZ == null ? null : PooledStorage.slice(device, gradZ);
            kernels.decoderRows(n, xs.dim(0), decoder.latent(), out(0), out(1), decoder.data(), wAt[0], bAt[0], wAt[1], bAt[1], wAt[2],
                    bAt[2], zAt != null ? zAt : read(zs, z), data(xs), logpOut == null ? null : lpAt != null ? lpAt : new Slice(logp, 0),
                    gradZ == null ? null : gAt != null ? gAt : new Slice(gz, 0));
            if (gradZ != null && gAt == null) {
                PooledStorage.get(device, gz, gradZ, n * decoder.latent());
            }
            if (logpOut != null && lpAt == null) {
                PooledStorage.get(device, logp, logpOut, n);
            }
            return;
        }
        PooledStorage.put(device, z, zs);
        data(xs);
        sevenLaunches(n, xs.dim(0), gradZ != null);
        if (gradZ != null) {
            PooledStorage.get(device, gz, gradZ, n * decoder.latent());
        }
        if (logpOut != null) {
            PooledStorage.get(device, logp, logpOut, n);
        }
    }

    /** Where a kernel reads the data {@code xs [B, D]}: in place on this device, else uploaded unless it is the tensor uploaded last. */
    private Slice data(Tensor xs) {
        Slice at = oneLaunch ? PooledStorage.slice(device, xs) : null;
        if (at != null) {
            return at;
        }
        if (xs != lastX || xs.dim(0) != lastXRows) {
            PooledStorage.put(device, x, xs);
            lastX = xs;
            lastXRows = xs.dim(0);
        }
        return new Slice(x, 0);
    }

    /** log p(x, z) of the {@code n} rows in {@code z} with the data in {@code x} into {@code logp}, and the gradient into {@code gz} when {@code grad}. */
    private void sevenLaunches(int n, int batch, boolean grad) {
        int latent = decoder.latent(), data = decoder.data();
        // forward: act[l] = tanh(act[l-1] W_l^T + b_l); the last layer gives the logits
        Device.Buffer in = z;
        for (int l = 0; l < layers; l++) {
            int inW = in(l), outW = out(l);
            kernels.sgemm(n, outW, inW, Matrix.of(in, inW), Matrix.of(w[l], inW).transpose(), Matrix.of(act[l], outW), false,
                    l < layers - 1 ? Epilogue.BIAS_TANH : Epilogue.BIAS, b[l], null);
            in = act[l];
        }
        kernels.bernoulliRows(n, data, batch, latent, act[layers - 1], x, z, back[layers - 1], logp, grad);
        if (grad) {
            // backward: back[l-1] = (back[l] W_l) * (1 - act[l-1]^2); d/dz = back[0] W_0 - z
            for (int l = layers - 1; l >= 1; l--) {
                int inW = in(l), outW = out(l);
                kernels.sgemm(n, inW, outW, Matrix.of(back[l], outW), Matrix.of(w[l], inW), Matrix.of(back[l - 1], inW), false,
                        Epilogue.TANH_GRAD, null, act[l - 1]);
            }
            kernels.sgemm(n, latent, out(0), Matrix.of(back[0], out(0)), Matrix.of(w[0], latent), Matrix.of(gz, latent), false,
                    Epilogue.SUB_AUX, null, z);
        }
    }

    @Override
    public void close() {
        for (Device.Buffer[] buffers : new Device.Buffer[][] {w, b, act, back}) {
            for (Device.Buffer buf : buffers) {
                if (buf != null) {
                    device.free(buf);
                }
            }
        }
        device.free(z);
        device.free(x);
        device.free(logp);
        device.free(gz);
    }
}
