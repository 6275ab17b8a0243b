package org.aiwae.kernels.cuda;

import static jcuda.driver.JCudaDriver.*;

import java.io.IOException;
import java.io.InputStream;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import org.aiwae.kernels.BackendUnavailableException;
import org.aiwae.kernels.Device;

/** A CUDA GPU through JCuda's driver API, running the PTX that nvcc made from {@code aiwae.cu} at build time. */
public final class CudaDevice implements Device {
    private final String name;
    private final CUcontext context;
    private final CUmodule module;
    private final CUfunction sgemm;
    private final CUfunction rows;
    private final Ptr dummy;

    private record Ptr(CUdeviceptr ptr, long floats) implements Buffer {}

    private CudaDevice(byte[] ptx) {
        CUdevice dev = new CUdevice();
        cuDeviceGet(dev, 0);
        byte[] nameBytes = new byte[256];
        cuDeviceGetName(nameBytes, nameBytes.length, dev);
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) {
            len++;
        }
        name = new String(nameBytes, 0, len);
        context = new CUcontext();
        cuCtxCreate(context, 0, dev);
        module = new CUmodule();
        cuModuleLoadData(module, ptx);
        sgemm = new CUfunction();
        cuModuleGetFunction(sgemm, module, "sgemm");
        rows = new CUfunction();
        cuModuleGetFunction(rows, module, "bernoulli_rows");
        dummy = (Ptr) alloc(1);
    }

    /** The PTX built into the jar, zero-terminated, or a one-line reason why there is none. */
    static byte[] ptx() {
        try (InputStream in = CudaDevice.class.getResourceAsStream("aiwae.ptx")) {
            if (in == null) {
                throw new BackendUnavailableException("CUDA: this build has no PTX (nvcc was not found when the kernels module was built)");
            }
            byte[] b = in.readAllBytes();
            byte[] z = new byte[b.length + 1];
            System.arraycopy(b, 0, z, 0, b.length);
            return z;
        } catch (IOException e) {
            throw new BackendUnavailableException("CUDA: cannot read aiwae.ptx: " + e.getMessage());
        }
    }

    /** Opens GPU 0, or says in one line why it cannot (no PTX, no driver, no GPU). */
    public static CudaDevice open() {
        byte[] ptx = ptx();
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) {
                throw new BackendUnavailableException("CUDA: the driver reports no GPU");
            }
            return new CudaDevice(ptx);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new BackendUnavailableException("CUDA: no NVIDIA driver (libcuda.so.1 not found)");
        } catch (CudaException e) {
            throw new BackendUnavailableException("CUDA: " + e.getMessage());
        }
    }

    @Override
    public String api() {
        return "cuda";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Buffer alloc(long floats) {
        CUdeviceptr p = new CUdeviceptr();
        cuMemAlloc(p, Math.max(floats, 1) * Sizeof.FLOAT);
        return new Ptr(p, floats);
    }

    @Override
    public void free(Buffer b) {
        cuMemFree(((Ptr) b).ptr());
    }

    @Override
    public void write(Buffer dst, float[] src, int off, int n) {
        if (n > 0) {
            cuMemcpyHtoD(((Ptr) dst).ptr(), Pointer.to(src).withByteOffset((long) off * Sizeof.FLOAT), (long) n * Sizeof.FLOAT);
        }
    }

    @Override
    public void read(Buffer src, float[] dst, int off, int n) {
        if (n > 0) {
            cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) off * Sizeof.FLOAT), ((Ptr) src).ptr(), (long) n * Sizeof.FLOAT);
        }
    }

    private CUdeviceptr ptr(Buffer b) {
        return b == null ? dummy.ptr() : ((Ptr) b).ptr();
    }

    private Pointer params(Object... values) {
        Pointer[] ps = new Pointer[values.length];
        for (int i = 0; i < values.length; i++) {
            Object v = values[i];
            if (v == null) {
                ps[i] = Pointer.to(dummy.ptr());
            } else if (v instanceof Ptr p) {
                ps[i] = Pointer.to(p.ptr());
            } else if (v instanceof CUdeviceptr p) {
                ps[i] = Pointer.to(p);
            } else if (v instanceof Boolean b) {
                ps[i] = Pointer.to(new int[] {b ? 1 : 0});
            } else if (v instanceof Long l) {
                ps[i] = Pointer.to(new long[] {l});
            } else if (v instanceof Float f) {
                ps[i] = Pointer.to(new float[] {f});
            } else if (v instanceof Double d) {
                ps[i] = Pointer.to(new double[] {d});
            } else {
                ps[i] = Pointer.to(new int[] {(Integer) v});
            }
        }
        return Pointer.to(ps);
    }

    private final java.util.Map<String, CUfunction> functions = new java.util.HashMap<>();

    @Override
    public synchronized void run(String kernelName, int items, Object... values) {
        if (items <= 0) {
            return;
        }
        CUfunction f = functions.computeIfAbsent(kernelName, nm -> {
            CUfunction fn = new CUfunction();
            cuModuleGetFunction(fn, module, nm);
            return fn;
        });
        cuLaunchKernel(f, (items + 127) / 128, 1, 1, 128, 1, 1, 0, null, params(values), null);
    }

    @Override
    public synchronized void copy(Buffer src, Buffer dst, long floats) {
        if (floats > 0) {
            cuMemcpyDtoD(((Ptr) dst).ptr(), ((Ptr) src).ptr(), floats * Sizeof.FLOAT);
        }
    }

    @Override
    public void readDoubles(Buffer src, double[] dst, int n) {
        if (n > 0) {
            cuMemcpyDtoH(Pointer.to(dst), ((Ptr) src).ptr(), (long) n * Sizeof.DOUBLE);
        }
    }

    @Override
    public synchronized void sgemm(int m, int n, int k, Buffer a, int aoff, int lda, boolean ta, Buffer b, int boff, int ldb,
                                   boolean tb, Buffer c, int coff, int ldc, boolean accumulate, Buffer bias, Buffer aux, int epilogue) {
        Pointer p = params(m, n, k, ptr(a), aoff, lda, ta, ptr(b), boff, ldb, tb, ptr(c), coff, ldc, accumulate, ptr(bias), ptr(aux),
                epilogue);
        cuLaunchKernel(sgemm, (n + 15) / 16, (m + 15) / 16, 1, 16, 16, 1, 0, null, p, null);
    }

    @Override
    public synchronized void bernoulliRows(int nRows, int data, int batch, int latent, Buffer logits, Buffer x, Buffer z, Buffer g,
                                           Buffer logp, boolean wantGrad) {
        Pointer p = params(nRows, data, batch, latent, ptr(logits), ptr(x), ptr(z), ptr(g), ptr(logp), wantGrad);
        cuLaunchKernel(rows, nRows, 1, 1, 64, 1, 1, 0, null, p, null);
    }

    @Override
    public void close() {
        free(dummy);
        cuModuleUnload(module);
        cuCtxDestroy(context);
    }
}
