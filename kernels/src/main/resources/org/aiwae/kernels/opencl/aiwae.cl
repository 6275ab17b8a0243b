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
