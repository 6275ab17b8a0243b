package org.aiwae.kernels;

import org.aiwae.engine.Tensor;
import org.aiwae.engine.fused.AnnealingKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.engine.random.ChainNoise;
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
    private final Kernels kernels;
    private final DeviceDecoderKernel decoder;
    private final int maxChains;
    private final int latent;
    private final Device.Buffer z, l0, l1, g0, g1;       // state
    private final Device.Buffer pz, pl0, pl1, pg0, pg1;  // proposal
    private final Device.Buffer p0, p, u, eps, flags, logw, mu, logSigma, ids;
    private final Kernels.Chains state, proposal;
    private final float[] flagsHost;
    private long[] idsOnDevice;
    private int chains;
    private int batch;

    DeviceAnnealingKernel(Kernels kernels, TanhMlpDecoder decoder, int maxChains) {
        this.kernels = kernels;
        this.device = kernels.device();
        this.decoder = new DeviceDecoderKernel(kernels, decoder, maxChains);
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
        ids = device.alloc(2L * maxChains); // the stream id of each data point, as uint pairs
        flagsHost = new float[maxChains];
        state = new Kernels.Chains(z, l0, l1, g0, g1);
        proposal = new Kernels.Chains(pz, pl0, pl1, pg0, pg1);
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
        DeviceBuffer.put(device, mu, muT);
        DeviceBuffer.put(device, logSigma, logSigmaT);
        DeviceBuffer.put(device, z, z0);
        evaluate(z, l0, g0, l1, g1);
        kernels.fillZeroDouble(n, logw);
    }

    private void evaluate(Device.Buffer at, Device.Buffer log0, Device.Buffer grad0, Device.Buffer log1, Device.Buffer grad1) {
        decoder.evaluate(at, chains, batch, log1, grad1);
        kernels.qTerms(chains, latent, batch, at, mu, logSigma, log0, grad0);
    }

    @Override
    public int step(double betaPrev, double beta, float[] stepSizes, int leapfrog, ChainNoise noise, boolean[] accepted) {
        int n = chains, nz = n * latent;
        kernels.aisWeights(n, beta - betaPrev, l0, l1, logw);
        switch (noise) {
            case ChainNoise.Shared shared -> fillShared(shared.stream(), n, nz);
            case ChainNoise.PerGroup groups -> fillPerGroup(groups, n);
        }
        device.write(eps, stepSizes, 0, n);
        float b1 = (float) beta, b0 = 1 - b1;
        device.copy(z, pz, nz);
        device.copy(p0, p, nz);
        kernels.kick(nz, latent, p, g0, g1, b0, b1, eps, 0.5f);
        for (int l = 1; l <= leapfrog; l++) {
            kernels.drift(nz, latent, pz, p, eps);
            evaluate(pz, pl0, pg0, pl1, pg1);
            kernels.kick(nz, latent, p, pg0, pg1, b0, b1, eps, l < leapfrog ? 1f : 0.5f);
        }
        kernels.metropolis(n, latent, beta, p0, p, u, state, proposal, flags);
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

    /** Momenta: N*Z normals, then N uniforms, from the stream's next blocks (as Hmc draws them). */
    private void fillShared(RandomStream rng, int n, int nz) {
        long pos = rng.position();
        int normalBlocks = (nz + 3) / 4, uniformBlocks = (n + 3) / 4;
        long seed = rng.seed(), id = rng.id();
        kernels.philoxFill(nz, seed, id, pos, true, p0);
        kernels.philoxFill(n, seed, id, pos + normalBlocks, false, u);
        rng.seek(pos + normalBlocks + uniformBlocks);
    }

    /** The same from one stream per data point, laid out as {@link ChainNoise.PerGroup} draws them on the host. */
    private void fillPerGroup(ChainNoise.PerGroup noise, int n) {
        int groups = noise.groups();
        if (groups != batch || n % groups != 0) {
            throw new IllegalArgumentException(groups + " random streams for a batch of " + batch);
        }
        long[] want = new long[groups];
        for (int g = 0; g < groups; g++) {
            want[g] = noise.id(g);
        }
        if (!java.util.Arrays.equals(want, idsOnDevice)) {
            float[] words = new float[2 * groups];
            for (int g = 0; g < groups; g++) {
                words[2 * g] = Float.intBitsToFloat((int) want[g]);
                words[2 * g + 1] = Float.intBitsToFloat((int) (want[g] >>> 32));
            }
            device.write(ids, words, 0, words.length);
            idsOnDevice = want;
        }
        int per = n / groups, normalBlocks = ChainNoise.PerGroup.blocks(per * latent), uniformBlocks = ChainNoise.PerGroup.blocks(per);
        long seed = noise.seed(), pos = noise.position();
        kernels.philoxFillGroups(groups, normalBlocks, per, latent, seed, ids, pos, true, p0);
        kernels.philoxFillGroups(groups, uniformBlocks, per, 1, seed, ids, pos + normalBlocks, false, u);
        noise.skip(normalBlocks + uniformBlocks);
    }

    @Override
    public void read(Tensor zOut, double[] logWeights) {
        DeviceBuffer.get(device, z, zOut, chains * latent);
        device.readDoubles(logw, logWeights, chains);
    }

    @Override
    public void close() {
        for (Device.Buffer b : new Device.Buffer[] {z, l0, l1, g0, g1, pz, pl0, pl1, pg0, pg1, p0, p, u, eps, flags, logw, mu, logSigma, ids}) {
            device.free(b);
        }
        decoder.close();
    }
}
