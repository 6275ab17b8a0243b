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
