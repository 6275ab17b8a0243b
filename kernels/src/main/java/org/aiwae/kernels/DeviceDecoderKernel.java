package org.aiwae.kernels;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.kernels.Kernels.Epilogue;
import org.aiwae.kernels.Kernels.Matrix;

/**
 * The fused decoder on a device: log p(x, z) and d/dz for up to {@code maxRows} rows with every
 * intermediate (hidden activations, logits, backward signals) kept in device buffers allocated
 * once. Per call only z goes up and log p and the gradient come back; x goes up when a new batch
 * tensor is passed (the kernel remembers the last one by identity, so a path that reuses its x
 * tensor uploads it once), the weights on {@link #refresh()}.
 */
final class DeviceDecoderKernel implements DecoderKernel {
    private final Device device;
    private final Kernels kernels;
    private final TanhMlpDecoder decoder;
    private final int maxRows;
    private final int layers;
    private final Device.Buffer[] w, b, act, back;
    private final Device.Buffer z, x, logp, gz;
    private Tensor lastX;
    private int lastXRows;

    DeviceDecoderKernel(Kernels kernels, TanhMlpDecoder decoder, int maxRows) {
        this.kernels = kernels;
        this.device = kernels.device();
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
            DeviceBuffer.put(device, w[l], wt);
            DeviceBuffer.put(device, b[l], bt);
        }
    }

    @Override
    public void logJoint(Tensor zs, Tensor xs, Tensor logpOut, Tensor gradZ) {
        int n = DecoderKernel.checkRows(this, zs, xs, logpOut, gradZ);
        DeviceBuffer.put(device, z, zs);
        useData(xs);
        evaluate(z, n, xs.dim(0), logp, gradZ == null ? null : gz);
        if (gradZ != null) {
            DeviceBuffer.get(device, gz, gradZ, n * decoder.latent());
        }
        if (logpOut != null) {
            DeviceBuffer.get(device, logp, logpOut, n);
        }
    }

    /** Makes {@code xs [B, D]} the data of the next evaluations (uploaded unless it is the tensor used last). */
    void useData(Tensor xs) {
        if (xs != lastX || xs.dim(0) != lastXRows) {
            DeviceBuffer.put(device, x, xs);
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
            kernels.sgemm(n, outW, inW, Matrix.of(in, inW), Matrix.of(w[l], inW).transpose(), Matrix.of(act[l], outW), false,
                    l < layers - 1 ? Epilogue.BIAS_TANH : Epilogue.BIAS, b[l], null);
            in = act[l];
        }
        boolean grad = gradOut != null;
        kernels.bernoulliRows(n, data, batch, latent, act[layers - 1], x, zs, back[layers - 1], logpOut, grad);
        if (grad) {
            // backward: back[l-1] = (back[l] W_l) * (1 - act[l-1]^2); d/dz = back[0] W_0 - z
            for (int l = layers - 1; l >= 1; l--) {
                int inW = in(l), outW = out(l);
                kernels.sgemm(n, inW, outW, Matrix.of(back[l], outW), Matrix.of(w[l], inW), Matrix.of(back[l - 1], inW), false,
                        Epilogue.TANH_GRAD, null, act[l - 1]);
            }
            kernels.sgemm(n, latent, out(0), Matrix.of(back[0], out(0)), Matrix.of(w[0], latent), Matrix.of(gradOut, latent), false,
                    Epilogue.SUB_AUX, null, zs);
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
