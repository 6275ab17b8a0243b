// aiwae's OpenCL kernels: the tiled sgemm with the epilogues the decoder needs, and the Bernoulli
// log-likelihood rows. The CUDA twin is kernels/src/main/cuda/aiwae.cu; both follow the CPU
// backend's CpuDecoderKernel and Gemm to float32 tolerance.

#define TILE 16
#define HALF_LOG_2PI 0.91893853320467274f

// Epilogues, applied per output element after the product (and the accumulation):
#define EPI_NONE 0
#define EPI_BIAS_TANH 1   // tanh(v + bias[col])          forward hidden layer
#define EPI_BIAS 2        // v + bias[col]                 forward output layer
#define EPI_TANH_GRAD 3   // v * (1 - aux[row, col]^2)     backward through tanh, aux = the layer's output
#define EPI_SUB_AUX 4     // v - aux[row, col]             gradient of the standard normal prior, aux = z

// C[M, N] (ldc) = op(A) op(B), op(A) [M, K] read from A [M, K] (lda) or, transposed, from [K, M];
// op(B) [K, N] read from B [K, N] (ldb) or, transposed, from [N, K]. 16x16 tiles in local memory.
__kernel void sgemm(int M, int N, int K,
                    __global const float* A, int aoff, int lda, int ta,
                    __global const float* B, int boff, int ldb, int tb,
                    __global float* C, int coff, int ldc, int accumulate,
                    __global const float* bias, __global const float* aux, int epilogue) {
    __local float As[TILE][TILE + 1];
    __local float Bs[TILE][TILE + 1];
    const int lx = get_local_id(0), ly = get_local_id(1);
    const int row = get_group_id(1) * TILE + ly;
    const int col = get_group_id(0) * TILE + lx;
    A += aoff;
    B += boff;
    C += coff;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TILE) {
        const int ka = k0 + lx, kb = k0 + ly;
        As[ly][lx] = (row < M && ka < K) ? (ta ? A[ka * lda + row] : A[row * lda + ka]) : 0.0f;
        Bs[ly][lx] = (kb < K && col < N) ? (tb ? B[col * ldb + kb] : B[kb * ldb + col]) : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < TILE; k++) {
            acc = fma(As[ly][k], Bs[k][lx], acc);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (row < M && col < N) {
        float v = accumulate ? acc + C[row * ldc + col] : acc;
        if (epilogue == EPI_BIAS_TANH) {
            v = tanh(v + bias[col]);
        } else if (epilogue == EPI_BIAS) {
            v = v + bias[col];
        } else if (epilogue == EPI_TANH_GRAD) {
            const float h = aux[row * ldc + col];
            v = v * (1.0f - h * h);
        } else if (epilogue == EPI_SUB_AUX) {
            v = v - aux[row * ldc + col];
        }
        C[row * ldc + col] = v;
    }
}

#define ROW_THREADS 64

// One work-group of 64 per row n of the logits L [N, D], paired with data row n mod B of X [B, D]:
// logp[n] = sum_d x l - softplus(l) + log N(z_n; 0, I), and G [N, D] = x - sigmoid(l) when wantGrad.
__kernel void bernoulli_rows(int N, int D, int B, int Z,
                             __global const float* L, __global const float* X, __global const float* Zs,
                             __global float* G, __global float* logp, int wantGrad) {
    __local float part[ROW_THREADS];
    const int n = get_group_id(0), lid = get_local_id(0);
    const __global float* l = L + (size_t) n * D;
    const __global float* x = X + (size_t) (n % B) * D;
    float acc = 0.0f;
    for (int d = lid; d < D; d += ROW_THREADS) {
        const float v = l[d], xv = x[d];
        acc += xv * v - (fmax(v, 0.0f) + log1p(exp(-fabs(v))));
        if (wantGrad) {
            G[(size_t) n * D + d] = xv - 1.0f / (1.0f + exp(-v));
        }
    }
    for (int j = lid; j < Z; j += ROW_THREADS) {
        const float zz = Zs[(size_t) n * Z + j];
        acc -= 0.5f * zz * zz;
    }
    part[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = ROW_THREADS / 2; s > 0; s >>= 1) {
        if (lid < s) {
            part[lid] += part[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        logp[n] = part[0] - Z * HALF_LOG_2PI;
    }
}

// ---------------------------------------------------------------- HMC and AIS on the device
// Every kernel below takes its work-item count n first and ignores work-items beyond it.

#pragma OPENCL EXTENSION cl_khr_fp64 : enable

// Philox4x32-10, as org.aiwae.engine.random.Philox: counter (c0..c3), key (k0, k1).
inline uint4 philox(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1) {
    for (int r = 0; r < 10; r++) {
        const uint hi0 = mul_hi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        const uint hi1 = mul_hi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        const uint n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
    }
    return (uint4) (c0, c1, c2, c3);
}

// The four values of one Philox block: normals by Box-Muller in double on the word pairs (0,1) and
// (2,3), as RandomStream.boxMuller, or uniforms (w >> 8) * 2^-24.
inline void philox_values(uint4 w, int normal, float* v) {
    if (normal) {
        const double inv = 1.0 / 16777216.0;
        double u1 = ((w.x >> 8) + 1) * inv, u2 = (w.y >> 8) * inv;
        double r = sqrt(-2.0 * log(u1)), t = 2.0 * M_PI * u2;
        v[0] = (float) (r * cos(t)); v[1] = (float) (r * sin(t));
        u1 = ((w.z >> 8) + 1) * inv; u2 = (w.w >> 8) * inv;
        r = sqrt(-2.0 * log(u1)); t = 2.0 * M_PI * u2;
        v[2] = (float) (r * cos(t)); v[3] = (float) (r * sin(t));
    } else {
        const float inv = 1.0f / 16777216.0f;
        v[0] = (w.x >> 8) * inv; v[1] = (w.y >> 8) * inv; v[2] = (w.z >> 8) * inv; v[3] = (w.w >> 8) * inv;
    }
}

// n values of a RandomStream(seed, id) starting at block `position`: block b gives values 4b..4b+3.
__kernel void philox_fill(int n, uint seedLo, uint seedHi, uint idLo, uint idHi, long position, int normal,
                          __global float* out) {
    const int b = get_global_id(0);
    if (4 * b >= n) return;
    const ulong ctr = (ulong) position + (ulong) b;
    float v[4];
    philox_values(philox((uint) ctr, (uint) (ctr >> 32), idLo, idHi, seedLo, seedHi), normal, v);
    for (int j = 0; j < 4 && 4 * b + j < n; j++) {
        out[4 * b + j] = v[j];
    }
}

// ChainNoise.PerGroup: group g draws per*dim values from stream (seed, ids[2g] | ids[2g+1] << 32) at
// blocks position.. (items / groups blocks each), written as out[per, groups, dim].
__kernel void philox_fill_groups(int items, int groups, int per, int dim, uint seedLo, uint seedHi,
                                 __global const uint* ids, long position, int normal, __global float* out) {
    const int w = get_global_id(0);
    if (w >= items) return;
    const int blocks = items / groups, g = w / blocks, b = w % blocks, n = per * dim;
    const ulong ctr = (ulong) position + (ulong) b;
    float v[4];
    philox_values(philox((uint) ctr, (uint) (ctr >> 32), ids[2 * g], ids[2 * g + 1], seedLo, seedHi), normal, v);
    for (int j = 0; j < 4 && 4 * b + j < n; j++) {
        const int i = 4 * b + j, k = i / dim;
        out[(k * groups + g) * dim + (i - k * dim)] = v[j];
    }
}

// log q(z|x) and its gradient for chain n of data point n mod B, q = N(mu, exp(logSigma)^2).
__kernel void q_terms(int n, int Z, int B, __global const float* z, __global const float* mu, __global const float* ls,
                      __global float* log0, __global float* grad0) {
    const int c = get_global_id(0);
    if (c >= n) return;
    const int b = c % B;
    double s = 0, norm = 0;
    for (int j = 0; j < Z; j++) {
        const float l = ls[b * Z + j];
        const float is = (float) exp(-(double) l);
        const float u = (z[c * Z + j] - mu[b * Z + j]) * is;
        s += (double) u * u;
        norm += l;
        grad0[c * Z + j] = -u * is;
    }
    log0[c] = (float) (-norm - Z * 0.91893853320467274 - 0.5 * s);
}

__kernel void ais_weights(int n, double db, __global const float* log0, __global const float* log1, __global double* logw) {
    const int c = get_global_id(0);
    if (c < n) logw[c] += db * ((double) log1[c] - log0[c]);
}

__kernel void fill_zero_double(int n, __global double* a) {
    const int i = get_global_id(0);
    if (i < n) a[i] = 0;
}

// p += scale * eps[chain] * ((1 - beta) grad0 + beta grad1), over n = N * Z values
__kernel void kick(int n, int Z, __global float* p, __global const float* g0, __global const float* g1, float b0, float b1,
                   __global const float* eps, float scale) {
    const int i = get_global_id(0);
    if (i < n) p[i] += scale * eps[i / Z] * (b0 * g0[i] + b1 * g1[i]);
}

__kernel void drift(int n, int Z, __global float* q, __global const float* p, __global const float* eps) {
    const int i = get_global_id(0);
    if (i < n) q[i] += eps[i / Z] * p[i];
}

// The Metropolis test of chain c at inverse temperature beta; an accepted proposal is copied into the state.
// flags[c] = 1 accepted, 0 rejected, -1 divergent (rejected).
__kernel void metropolis(int n, int Z, double beta, __global const float* p0, __global const float* p, __global const float* u,
                         __global float* z, __global float* l0, __global float* l1, __global float* g0, __global float* g1,
                         __global const float* pz, __global const float* pl0, __global const float* pl1,
                         __global const float* pg0, __global const float* pg1, __global float* flags) {
    const int c = get_global_id(0);
    if (c >= n) return;
    double k0 = 0, k1 = 0;
    for (int j = c * Z; j < (c + 1) * Z; j++) {
        k0 += (double) p0[j] * p0[j];
        k1 += (double) p[j] * p[j];
    }
    const double h0 = -((1 - beta) * l0[c] + beta * l1[c]) + 0.5 * k0;
    const double h1 = -((1 - beta) * pl0[c] + beta * pl1[c]) + 0.5 * k1;
    const double dh = h1 - h0;
    if (!(dh < 1000.0)) {
        flags[c] = -1;
    } else if (u[c] < exp(-dh)) {
        flags[c] = 1;
        for (int j = c * Z; j < (c + 1) * Z; j++) {
            z[j] = pz[j]; g0[j] = pg0[j]; g1[j] = pg1[j];
        }
        l0[c] = pl0[c]; l1[c] = pl1[c];
    } else {
        flags[c] = 0;
    }
}
