package org.aiwae.kernels;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.fused.AnnealingKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.engine.random.RandomStream;

/**
 * AIS with HMC on a {@link Device}: the state (positions, log q, log p, both gradients), the
 * proposal, the momenta and the double-precision log weights live in device buffers allocated
 * once; a temperature step is a fixed sequence of launches (weights, Philox momenta and
 * uniforms, L leapfrog steps around the fused decoder, the Metropolis test) and reads back only
 * the N acceptance flags. The same sequence as {@code org.aiwae.sampler.Hmc} on the host.
 */
final class DeviceAnnealingKernel implements AnnealingKernel {
    private final Device device;
    private final DeviceDecoderKernel decoder;
    private final int maxChains;
    private final int latent;
    private final Device.Buffer z, l0, l1, g0, g1;       // state
    private final Device.Buffer pz, pl0, pl1, pg0, pg1;  // proposal
    private final Device.Buffer p0, p, u, eps, flags, logw, mu, logSigma;
    private final float[] flagsHost;
    private int chains;
    private int batch;

    DeviceAnnealingKernel(Device device, TanhMlpDecoder decoder, int maxChains) {
        this.device = device;
        this.decoder = new DeviceDecoderKernel(device, decoder, maxChains);
        this.maxChains = maxChains;
        this.latent = decoder.latent();
        long nz = (long) maxChains * latent;
        z = device.alloc(nz);
        g0 = device.alloc(nz);
        g1 = device.alloc(nz);
        l0 = device.alloc(maxChains);
        l1 = device.alloc(maxChains);
        pz = device.alloc(nz);
        pg0 = device.alloc(nz);
        pg1 = device.alloc(nz);
        pl0 = device.alloc(maxChains);
        pl1 = device.alloc(maxChains);
        p0 = device.alloc(nz);
        p = device.alloc(nz);
        u = device.alloc(maxChains);
        eps = device.alloc(maxChains);
        flags = device.alloc(maxChains);
        logw = device.alloc(2L * maxChains); // doubles
        mu = device.alloc(nz);
        logSigma = device.alloc(nz);
        flagsHost = new float[maxChains];
    }

    @Override
    public int maxChains() {
        return maxChains;
    }

    @Override
    public void refresh() {
        decoder.refresh();
    }

    @Override
    public void start(Tensor x, Tensor muT, Tensor logSigmaT, Tensor z0) {
        int n = z0.dim(0);
        if (z0.rank() != 2 || z0.dim(1) != latent || n > maxChains || n % x.dim(0) != 0 || muT.dim(0) != x.dim(0)) {
            throw new IllegalArgumentException("annealing start: z0 " + java.util.Arrays.toString(z0.shape()) + ", x "
                    + java.util.Arrays.toString(x.shape()) + " (kernel holds " + maxChains + " chains of dimension " + latent + ")");
        }
        chains = n;
        batch = x.dim(0);
        decoder.useData(x);
        device.write(mu, muT.data(), muT.offset(), muT.size());
        device.write(logSigma, logSigmaT.data(), logSigmaT.offset(), logSigmaT.size());
        device.write(z, z0.data(), z0.offset(), z0.size());
        evaluate(z, l0, g0, l1, g1);
        device.run("fill_zero_double", n, n, logw);
    }

    private void evaluate(Device.Buffer at, Device.Buffer log0, Device.Buffer grad0, Device.Buffer log1, Device.Buffer grad1) {
        decoder.evaluate(at, chains, batch, log1, grad1);
        device.run("q_terms", chains, chains, latent, batch, at, mu, logSigma, log0, grad0);
    }

    @Override
    public int step(double betaPrev, double beta, float[] stepSizes, int leapfrog, RandomStream rng, boolean[] accepted) {
        int n = chains, nz = n * latent;
        device.run("ais_weights", n, n, beta - betaPrev, l0, l1, logw);
        // momenta: N*Z normals, then N uniforms, from the stream's next blocks (as Hmc draws them)
        long pos = rng.position();
        int normalBlocks = (nz + 3) / 4, uniformBlocks = (n + 3) / 4;
        long seed = rng.seed(), id = rng.id();
        device.run("philox_fill", normalBlocks, nz, (int) seed, (int) (seed >>> 32), (int) id, (int) (id >>> 32), pos, 1, p0);
        device.run("philox_fill", uniformBlocks, n, (int) seed, (int) (seed >>> 32), (int) id, (int) (id >>> 32),
                pos + normalBlocks, 0, u);
        rng.seek(pos + normalBlocks + uniformBlocks);
        device.write(eps, stepSizes, 0, n);
        float b1 = (float) beta, b0 = 1 - b1;
        device.copy(z, pz, nz);
        device.copy(p0, p, nz);
        device.run("kick", nz, nz, latent, p, g0, g1, b0, b1, eps, 0.5f);
        for (int l = 1; l <= leapfrog; l++) {
            device.run("drift", nz, nz, latent, pz, p, eps);
            evaluate(pz, pl0, pg0, pl1, pg1);
            device.run("kick", nz, nz, latent, p, pg0, pg1, b0, b1, eps, l < leapfrog ? 1f : 0.5f);
        }
        device.run("metropolis", n, n, latent, beta, p0, p, u, z, l0, l1, g0, g1, pz, pl0, pl1, pg0, pg1, flags);
        device.read(flags, flagsHost, 0, n);
        int divergent = 0;
        for (int i = 0; i < n; i++) {
            accepted[i] = flagsHost[i] > 0;
            if (flagsHost[i] < 0) {
                divergent++;
            }
        }
        return divergent;
    }

    @Override
    public void read(Tensor zOut, double[] logWeights) {
        device.read(z, zOut.data(), zOut.offset(), chains * latent);
        device.readDoubles(logw, logWeights, chains);
    }

    @Override
    public void close() {
        for (Device.Buffer b : new Device.Buffer[] {z, l0, l1, g0, g1, pz, pl0, pl1, pg0, pg1, p0, p, u, eps, flags, logw, mu, logSigma}) {
            device.free(b);
        }
        decoder.close();
    }
}
