// aiwae's CUDA kernels, the twin of kernels/src/main/resources/org/aiwae/kernels/opencl/aiwae.cl:
// the tiled sgemm with the decoder's epilogues and the Bernoulli log-likelihood rows. Compiled to
// PTX by nvcc at build time (kernels/build-ptx.sh) and loaded through JCuda's driver API.

#define TILE 16
#define HALF_LOG_2PI 0.91893853320467274f
#define EPI_NONE 0
#define EPI_BIAS_TANH 1
#define EPI_BIAS 2
#define EPI_TANH_GRAD 3
#define EPI_SUB_AUX 4
#define ROW_THREADS 64

extern "C" __global__ void sgemm(int M, int N, int K,
                                 const float* __restrict__ A, int aoff, int lda, int ta,
                                 const float* __restrict__ B, int boff, int ldb, int tb,
                                 float* C, int coff, int ldc, int accumulate,
                                 const float* __restrict__ bias, const float* __restrict__ aux, int epilogue) {
    __shared__ float As[TILE][TILE + 1];
    __shared__ float Bs[TILE][TILE + 1];
    const int lx = threadIdx.x, ly = threadIdx.y;
    const int row = blockIdx.y * TILE + ly;
    const int col = blockIdx.x * TILE + lx;
    A += aoff;
    B += boff;
    C += coff;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TILE) {
        const int ka = k0 + lx, kb = k0 + ly;
        As[ly][lx] = (row < M && ka < K) ? (ta ? A[ka * lda + row] : A[row * lda + ka]) : 0.0f;
        Bs[ly][lx] = (kb < K && col < N) ? (tb ? B[col * ldb + kb] : B[kb * ldb + col]) : 0.0f;
        __syncthreads();
#pragma unroll
        for (int k = 0; k < TILE; k++) {
            acc = fmaf(As[ly][k], Bs[k][lx], acc);
        }
        __syncthreads();
    }
    if (row < M && col < N) {
        float v = accumulate ? acc + C[row * ldc + col] : acc;
        if (epilogue == EPI_BIAS_TANH) {
            v = tanhf(v + bias[col]);
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

extern "C" __global__ void bernoulli_rows(int N, int D, int B, int Z,
                                          const float* __restrict__ L, const float* __restrict__ X,
                                          const float* __restrict__ Zs, float* G, float* logp, int wantGrad) {
    __shared__ float part[ROW_THREADS];
    const int n = blockIdx.x, lid = threadIdx.x;
    const float* l = L + (size_t) n * D;
    const float* x = X + (size_t) (n % B) * D;
    float acc = 0.0f;
    for (int d = lid; d < D; d += ROW_THREADS) {
        const float v = l[d], xv = x[d];
        acc += xv * v - (fmaxf(v, 0.0f) + log1pf(expf(-fabsf(v))));
        if (wantGrad) {
            G[(size_t) n * D + d] = xv - 1.0f / (1.0f + expf(-v));
        }
    }
    for (int j = lid; j < Z; j += ROW_THREADS) {
        const float zz = Zs[(size_t) n * Z + j];
        acc -= 0.5f * zz * zz;
    }
    part[lid] = acc;
    __syncthreads();
    for (int s = ROW_THREADS / 2; s > 0; s >>= 1) {
        if (lid < s) {
            part[lid] += part[lid + s];
        }
        __syncthreads();
    }
    if (lid == 0) {
        logp[n] = part[0] - Z * HALF_LOG_2PI;
    }
}

// ---------------------------------------------------------------- HMC and AIS on the device (as in aiwae.cl)

__device__ __forceinline__ uint4 philox(unsigned c0, unsigned c1, unsigned c2, unsigned c3, unsigned k0, unsigned k1) {
    for (int r = 0; r < 10; r++) {
        const unsigned hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        const unsigned hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        const unsigned n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
    }
    return make_uint4(c0, c1, c2, c3);
}

#define GID (blockIdx.x * blockDim.x + threadIdx.x)

// The four values of one Philox block, as philox_values in aiwae.cl.
__device__ __forceinline__ void philox_values(uint4 w, int normal, float* v) {
    if (normal) {
        const double inv = 1.0 / 16777216.0, twoPi = 6.283185307179586;
        double u1 = ((w.x >> 8) + 1) * inv, u2 = (w.y >> 8) * inv;
        double r = sqrt(-2.0 * log(u1)), t = twoPi * u2;
        v[0] = (float) (r * cos(t)); v[1] = (float) (r * sin(t));
        u1 = ((w.z >> 8) + 1) * inv; u2 = (w.w >> 8) * inv;
        r = sqrt(-2.0 * log(u1)); t = twoPi * u2;
        v[2] = (float) (r * cos(t)); v[3] = (float) (r * sin(t));
    } else {
        const float inv = 1.0f / 16777216.0f;
        v[0] = (w.x >> 8) * inv; v[1] = (w.y >> 8) * inv; v[2] = (w.z >> 8) * inv; v[3] = (w.w >> 8) * inv;
    }
}

extern "C" __global__ void philox_fill(int n, unsigned seedLo, unsigned seedHi, unsigned idLo, unsigned idHi,
                                       long long position, int normal, float* out) {
    const int b = GID;
    if (4 * b >= n) return;
    const unsigned long long ctr = (unsigned long long) position + (unsigned long long) b;
    float v[4];
    philox_values(philox((unsigned) ctr, (unsigned) (ctr >> 32), idLo, idHi, seedLo, seedHi), normal, v);
    for (int j = 0; j < 4 && 4 * b + j < n; j++) {
        out[4 * b + j] = v[j];
    }
}

extern "C" __global__ void philox_fill_groups(int items, int groups, int per, int dim, unsigned seedLo, unsigned seedHi,
                                              const unsigned* ids, long long position, int normal, float* out) {
    const int w = GID;
    if (w >= items) return;
    const int blocks = items / groups, g = w / blocks, b = w % blocks, n = per * dim;
    const unsigned long long ctr = (unsigned long long) position + (unsigned long long) b;
    float v[4];
    philox_values(philox((unsigned) ctr, (unsigned) (ctr >> 32), ids[2 * g], ids[2 * g + 1], seedLo, seedHi), normal, v);
    for (int j = 0; j < 4 && 4 * b + j < n; j++) {
        const int i = 4 * b + j, k = i / dim;
        out[(k * groups + g) * dim + (i - k * dim)] = v[j];
    }
}

extern "C" __global__ void q_terms(int n, int Z, int B, const float* z, const float* mu, const float* ls, float* log0, float* grad0) {
    const int c = GID;
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

extern "C" __global__ void ais_weights(int n, double db, const float* log0, const float* log1, double* logw) {
    const int c = GID;
    if (c < n) logw[c] += db * ((double) log1[c] - log0[c]);
}

extern "C" __global__ void fill_zero_double(int n, double* a) {
    const int i = GID;
    if (i < n) a[i] = 0;
}

extern "C" __global__ void kick(int n, int Z, float* p, const float* g0, const float* g1, float b0, float b1, const float* eps,
                                float scale) {
    const int i = GID;
    if (i < n) p[i] += scale * eps[i / Z] * (b0 * g0[i] + b1 * g1[i]);
}

extern "C" __global__ void drift(int n, int Z, float* q, const float* p, const float* eps) {
    const int i = GID;
    if (i < n) q[i] += eps[i / Z] * p[i];
}

extern "C" __global__ void metropolis(int n, int Z, double beta, const float* p0, const float* p, const float* u,
                                      float* z, float* l0, float* l1, float* g0, float* g1,
                                      const float* pz, const float* pl0, const float* pl1, const float* pg0, const float* pg1,
                                      float* flags) {
    const int c = GID;
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
