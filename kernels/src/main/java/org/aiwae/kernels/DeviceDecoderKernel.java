package org.aiwae.kernels;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;

/**
 * The fused decoder on a device: log p(x, z) and d/dz for up to {@code maxRows} rows with every
 * intermediate (hidden activations, logits, backward signals) kept in device buffers allocated
 * once. Per call only z goes up and log p and the gradient come back; x goes up when a new batch
 * tensor is passed (the kernel remembers the last one by identity, so a path that reuses its x
 * tensor uploads it once), the weights on {@link #refresh()}.
 */
final class DeviceDecoderKernel implements DecoderKernel {
    private final Device device;
    private final TanhMlpDecoder decoder;
    private final int maxRows;
    private final int layers;
    private final Device.Buffer[] w, b, act, back;
    private final Device.Buffer z, x, logp, gz;
    private Tensor lastX;
    private int lastXRows;

    DeviceDecoderKernel(Device device, TanhMlpDecoder decoder, int maxRows) {
        this.device = device;
        this.decoder = decoder;
        this.maxRows = maxRows;
        this.layers = decoder.layers();
        w = new Device.Buffer[layers];
        b = new Device.Buffer[layers];
        act = new Device.Buffer[layers];  // act[l]: output of layer l (tanh for hidden, logits for the last)
        back = new Device.Buffer[layers]; // back[l]: d logp / d (pre-activation of layer l); back[last] = x - sigmoid
        for (int l = 0; l < layers; l++) {
            w[l] = device.alloc(decoder.weights().get(l).size());
            b[l] = device.alloc(decoder.biases().get(l).size());
            act[l] = device.alloc((long) maxRows * out(l));
            back[l] = device.alloc((long) maxRows * out(l));
        }
        z = device.alloc((long) maxRows * decoder.latent());
        x = device.alloc((long) maxRows * decoder.data());
        logp = device.alloc(maxRows);
        gz = device.alloc((long) maxRows * decoder.latent());
        refresh();
    }

    private int in(int layer) {
        return decoder.weights().get(layer).dim(1);
    }

    private int out(int layer) {
        return decoder.weights().get(layer).dim(0);
    }

    @Override
    public TanhMlpDecoder decoder() {
        return decoder;
    }

    @Override
    public int maxRows() {
        return maxRows;
    }

    @Override
    public void refresh() {
        for (int l = 0; l < layers; l++) {
            Tensor wt = decoder.weights().get(l), bt = decoder.biases().get(l);
            device.write(w[l], wt.data(), wt.offset(), wt.size());
            device.write(b[l], bt.data(), bt.offset(), bt.size());
        }
    }

    @Override
    public void logJoint(Tensor zs, Tensor xs, Tensor logpOut, Tensor gradZ) {
        int n = DecoderKernel.checkRows(this, zs, xs, logpOut, gradZ);
        device.write(z, zs.data(), zs.offset(), zs.size());
        useData(xs);
        evaluate(z, n, xs.dim(0), logp, gradZ == null ? null : gz);
        if (gradZ != null) {
            device.read(gz, gradZ.data(), gradZ.offset(), n * decoder.latent());
        }
        device.read(logp, logpOut.data(), logpOut.offset(), n);
    }

    /** Makes {@code xs [B, D]} the data of the next evaluations (uploaded unless it is the tensor used last). */
    void useData(Tensor xs) {
        if (xs != lastX || xs.dim(0) != lastXRows) {
            device.write(x, xs.data(), xs.offset(), xs.size());
            lastX = xs;
            lastXRows = xs.dim(0);
        }
    }

    /**
     * log p(x, z) of the {@code n} rows of the device buffer {@code zs} into {@code logpOut}, and the
     * gradient into {@code gradOut} unless it is null; nothing crosses to the host.
     */
    void evaluate(Device.Buffer zs, int n, int batch, Device.Buffer logpOut, Device.Buffer gradOut) {
        int latent = decoder.latent(), data = decoder.data();
        // forward: act[l] = tanh(act[l-1] W_l^T + b_l); the last layer gives the logits
        Device.Buffer in = zs;
        for (int l = 0; l < layers; l++) {
            int inW = in(l), outW = out(l);
            device.sgemm(n, outW, inW, in, 0, inW, false, w[l], 0, inW, true, act[l], 0, outW, false, b[l], null,
                    l < layers - 1 ? Device.EPI_BIAS_TANH : Device.EPI_BIAS);
            in = act[l];
        }
        boolean grad = gradOut != null;
        device.bernoulliRows(n, data, batch, latent, act[layers - 1], x, zs, back[layers - 1], logpOut, grad);
        if (grad) {
            // backward: back[l-1] = (back[l] W_l) * (1 - act[l-1]^2); d/dz = back[0] W_0 - z
            for (int l = layers - 1; l >= 1; l--) {
                int inW = in(l), outW = out(l);
                device.sgemm(n, inW, outW, back[l], 0, outW, false, w[l], 0, inW, false, back[l - 1], 0, inW, false, null,
                        act[l - 1], Device.EPI_TANH_GRAD);
            }
            device.sgemm(n, latent, out(0), back[0], 0, out(0), false, w[0], 0, latent, false, gradOut, 0, latent,
                    false, null, zs, Device.EPI_SUB_AUX);
        }
    }

    @Override
    public void close() {
        for (int l = 0; l < layers; l++) {
            device.free(w[l]);
            device.free(b[l]);
            device.free(act[l]);
            device.free(back[l]);
        }
        device.free(z);
        device.free(x);
        device.free(logp);
        device.free(gz);
    }
}
