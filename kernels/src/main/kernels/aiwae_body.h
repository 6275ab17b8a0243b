// aiwae's device kernels, written once for OpenCL C and CUDA C++: this body is compiled after a dialect
// header (dialect_opencl.h or dialect_cuda.h) that spells KERNEL, FUNC, GLOBAL, RESTRICT, LOCAL,
// LOCAL_BARRIER(), UNROLL, GLOBAL_ID_X, LOCAL_ID_X/Y, GROUP_ID_X/Y, uint, int64, uint64, MAKE_UINT4,
// MUL_HI, NO_CONTRACTION, MUL_RN and the float maths (expf, logf, sqrtf, log1pf, tanhf, fabsf, fmaxf, fminf, fmaf) in its language. Use nothing
// else that differs between the two. The host side of every kernel (its argument order and types, its
// launch geometry) is written once, in org.aiwae.kernels.Kernels; KernelSourceTest checks the two agree.
//
// The kernels follow the CPU backend (CpuDecoderKernel, Gemm, Hmc, Philox) to float32 tolerance.

#define HALF_LOG_2PI 0.91893853320467274f
#define TWO_PI 6.283185307179586

// Epilogues of sgemm, applied per output element after the product (and the accumulation):
#define EPI_NONE 0
#define EPI_BIAS_TANH 1   // tanh(v + bias[col])          forward hidden layer
#define EPI_BIAS 2        // v + bias[col]                 forward output layer
#define EPI_TANH_GRAD 3   // v * (1 - aux[row, col]^2)     backward through tanh, aux = the layer's output
#define EPI_SUB_AUX 4     // v - aux[row, col]             gradient of the standard normal prior, aux = z

// sgemm's blocking: a group of GEMM_THREADS x GEMM_THREADS work-items computes a GEMM_TILE x GEMM_TILE block
// of C, each work-item GEMM_WORK x GEMM_WORK outputs (rows ly + GEMM_THREADS i, columns lx + GEMM_THREADS j:
// neighbouring work-items read neighbouring local words and write neighbouring columns); k advances by
// GEMM_KTILE, with a GEMM_KTILE x GEMM_TILE slice of op(A) and of op(B) in local memory (8.3 KB).
#define GEMM_TILE 64
#define GEMM_THREADS 16
#define GEMM_WORK (GEMM_TILE / GEMM_THREADS)
#define GEMM_KTILE 16
#define GEMM_PAD (GEMM_TILE + 1)
#define GEMM_LOADS (GEMM_TILE * GEMM_KTILE / (GEMM_THREADS * GEMM_THREADS))

// One k of a work-item's block: acc[i][j] = fmaf(op(A)[its row i, k], op(B)[k, its column j], acc[i][j]).
#define GEMM_STEP(k) { \
        float a_[GEMM_WORK], b_[GEMM_WORK]; \
        UNROLL \
        for (int i_ = 0; i_ < GEMM_WORK; i_++) { \
            a_[i_] = As[k][ly + GEMM_THREADS * i_]; \
            b_[i_] = Bs[k][lx + GEMM_THREADS * i_]; \
        } \
        UNROLL \
        for (int i_ = 0; i_ < GEMM_WORK; i_++) { \
            UNROLL \
            for (int j_ = 0; j_ < GEMM_WORK; j_++) { \
                acc[i_][j_] = fmaf(a_[i_], b_[j_], acc[i_][j_]); \
            } \
        } \
    }

// The statements `...` once for each of a work-item's GEMM_WORK x GEMM_WORK outputs, its acc[i][j] at (row, col) of C
// (row and col may lie outside C at its edges).
#define GEMM_EACH_OUTPUT(...) { \
        UNROLL \
        for (int i = 0; i < GEMM_WORK; i++) { \
            const int row = row0 + ly + GEMM_THREADS * i; \
            UNROLL \
            for (int j = 0; j < GEMM_WORK; j++) { \
                const int col = col0 + lx + GEMM_THREADS * j; \
                __VA_ARGS__ \
            } \
        } \
    }

// C[M, N] (ldc) = op(A) op(B), op(A) [M, K] read from A [M, K] (lda) or, transposed, from [K, M];
// op(B) [K, N] read from B [K, N] (ldb) or, transposed, from [N, K]; then the epilogue (aux is read with
// ldc, without coff). Each output is one chain c = fmaf(op(A)[row, k], op(B)[k, col], c) over k = 0..K-1
// in order, from 0, or from C when accumulating (the CPU's Gemm: the same bits where fmaf is the IEEE fma).
// Launched as ceil(N/GEMM_TILE) x ceil(M/GEMM_TILE) groups of GEMM_THREADS x GEMM_THREADS.
KERNEL void sgemm(int M, int N, int K,
                  GLOBAL const float* RESTRICT A, int aoff, int lda, int ta,
                  GLOBAL const float* RESTRICT B, int boff, int ldb, int tb,
                  GLOBAL float* C, int coff, int ldc, int accumulate,
                  GLOBAL const float* RESTRICT bias, GLOBAL const float* RESTRICT aux, int epilogue) {
    LOCAL float As[GEMM_KTILE][GEMM_PAD];
    LOCAL float Bs[GEMM_KTILE][GEMM_PAD];
    const int lx = LOCAL_ID_X, ly = LOCAL_ID_Y, lid = ly * GEMM_THREADS + lx;
    const int row0 = GROUP_ID_Y * GEMM_TILE, col0 = GROUP_ID_X * GEMM_TILE;
    A += aoff;
    B += boff;
    C += coff;
    float acc[GEMM_WORK][GEMM_WORK];
    GEMM_EACH_OUTPUT(acc[i][j] = (accumulate && row < M && col < N) ? C[row * ldc + col] : 0.0f;)
    for (int k0 = 0; k0 < K; k0 += GEMM_KTILE) {
        // the slices of op(A) and op(B) for k0..k0+GEMM_KTILE-1, zero outside the matrices: each work-item loads
        // GEMM_LOADS words of each, neighbouring work-items neighbouring words of the operand as it is stored
        UNROLL
        for (int t = 0; t < GEMM_LOADS; t++) {
            const int e = lid + t * GEMM_THREADS * GEMM_THREADS;
            const int ra = ta ? e % GEMM_TILE : e / GEMM_KTILE, ka = ta ? e / GEMM_TILE : e % GEMM_KTILE;
            const int row = row0 + ra, kga = k0 + ka;
            As[ka][ra] = (row < M && kga < K) ? (ta ? A[kga * lda + row] : A[row * lda + kga]) : 0.0f;
            const int cb = tb ? e / GEMM_KTILE : e % GEMM_TILE, kb = tb ? e % GEMM_KTILE : e / GEMM_TILE;
            const int col = col0 + cb, kgb = k0 + kb;
            Bs[kb][cb] = (col < N && kgb < K) ? (tb ? B[col * ldb + kgb] : B[kgb * ldb + col]) : 0.0f;
        }
        LOCAL_BARRIER();
        if (K - k0 >= GEMM_KTILE) {
            UNROLL
            for (int k = 0; k < GEMM_KTILE; k++) {
                GEMM_STEP(k);
            }
        } else {
            // the last, partial slice: only k < K, as fmaf(0, 0, c) would turn a chain's -0 into +0
            for (int k = 0; k < K - k0; k++) {
                GEMM_STEP(k);
            }
        }
        LOCAL_BARRIER();
    }
    GEMM_EACH_OUTPUT(
        if (row < M && col < N) {
            float v = acc[i][j];
            if (epilogue == EPI_BIAS_TANH) {
                v = tanhf(v + bias[col]);
            } else if (epilogue == EPI_BIAS) {
                v = v + bias[col];
            } else if (epilogue == EPI_TANH_GRAD) {
                const float h = aux[row * ldc + col];
                v = v * fmaf(-h, h, 1.0f); /* spelt as the fma, so that no compiler's contraction changes it */
            } else if (epilogue == EPI_SUB_AUX) {
                v = v - aux[row * ldc + col];
            }
            C[row * ldc + col] = v;
        })
}

// sigmoid(x) = 1 / (1 + e^-x) and softplus(x) = log(1 + e^x), the body's only spellings of them, both from e = e^-|x| (which
// neither overflows nor loses the tail): (x >= 0 ? 1 : e) / (1 + e) and max(x, 0) + log1p(e), the CPU's forms
// (FloatMath.sigmoidFromExp, FloatMath.softplus).
FUNC float sigmoid_f(float x) {
    const float e = expf(-fabsf(x));
    return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

FUNC float softplus_f(float x) {
    return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}

// log Bernoulli(x | sigmoid(l)) = x l - softplus(l), and its derivative in l, x - sigmoid(l)
FUNC float bernoulli_log(float x, float l) {
    return x * l - softplus_f(l);
}

FUNC float bernoulli_grad(float x, float l) {
    return x - sigmoid_f(l);
}

#define ROW_THREADS 64

// part[0] = the sum of part[0..ROW_THREADS-1], which each work-item lid of the group has written at part[lid], by a fixed
// tree (the same order every run); every work-item of the group must reach it.
#define GROUP_TREE_SUM(part, lid) \
    LOCAL_BARRIER(); \
    for (int s_ = ROW_THREADS / 2; s_ > 0; s_ >>= 1) { \
        if ((lid) < s_) { \
            (part)[lid] += (part)[(lid) + s_]; \
        } \
        LOCAL_BARRIER(); \
    }

// One group of ROW_THREADS per row n of the logits L [N, D], paired with data row n mod B of X [B, D]:
// logp[n] = sum_d x l - softplus(l) + log N(z_n; 0, I), and G [N, D] = x - sigmoid(l) when wantGrad.
// Launched as N groups of ROW_THREADS.
KERNEL void bernoulli_rows(int N, int D, int B, int Z,
                           GLOBAL const float* RESTRICT L, GLOBAL const float* RESTRICT X,
                           GLOBAL const float* RESTRICT Zs, GLOBAL float* G, GLOBAL float* logp, int wantGrad) {
    LOCAL float part[ROW_THREADS];
    const int n = GROUP_ID_X, lid = LOCAL_ID_X;
    GLOBAL const float* l = L + (size_t) n * D;
    GLOBAL const float* x = X + (size_t) (n % B) * D;
    float acc = 0.0f;
    for (int d = lid; d < D; d += ROW_THREADS) {
        const float v = l[d], xv = x[d];
        acc += bernoulli_log(xv, v);
        if (wantGrad) {
            G[(size_t) n * D + d] = bernoulli_grad(xv, v);
        }
    }
    for (int j = lid; j < Z; j += ROW_THREADS) {
        const float zz = Zs[(size_t) n * Z + j];
        acc -= 0.5f * zz * zz;
    }
    part[lid] = acc;
    GROUP_TREE_SUM(part, lid);
    if (lid == 0) {
        logp[n] = part[0] - Z * HALF_LOG_2PI;
    }
}

// Backend.bernoulliScore: y[i] = (x - sigmoid(l)) g[r] for element i of row r = i / D of the logits (from loff), with data
// row r mod B of x [B, D] (from xoff) and one upstream value per row in g (from goff).
KERNEL void bernoulli_score(int n, int D, int B, GLOBAL const float* RESTRICT L, int loff, GLOBAL const float* RESTRICT X, int xoff,
                            GLOBAL const float* RESTRICT g, int goff, GLOBAL float* RESTRICT y) {
    const int i = GLOBAL_ID_X;
    if (i < n) {
        const int r = i / D, d = i - r * D;
        y[i] = bernoulli_grad(X[xoff + (r % B) * D + d], L[loff + i]) * g[goff + r];
    }
}

// Backend.gaussianKl for row r < rows of mu and logSigma [rows, d] (from muoff, lsoff): var = exp(2 logSigma) into var,
// kl[r] = sum over j of (mu^2 + var - 1) / 2 - logSigma, added in double in index order.
KERNEL void gaussian_kl_rows(int rows, int d, GLOBAL const float* RESTRICT mu, int muoff, GLOBAL const float* RESTRICT ls, int lsoff,
                             GLOBAL float* RESTRICT kl, GLOBAL float* RESTRICT var) {
    const int r = GLOBAL_ID_X;
    if (r < rows) {
        double acc = 0.0;
        for (int j = 0; j < d; j++) {
            const int i = r * d + j;
            const float m = mu[muoff + i], l = ls[lsoff + i];
            const float v = expf(l * 2.0f);
            var[i] = v;
            acc += ((m * m + v) - 1.0f) * 0.5f - l;
        }
        kl[r] = (float) acc;
    }
}

// Backend.gaussianKlGrad: dmu[i] = mu[i] g[r], dls[i] = (var[i] - 1) g[r] for element i of row r = i / d.
KERNEL void gaussian_kl_grad(int n, int d, GLOBAL const float* RESTRICT mu, int muoff, GLOBAL const float* RESTRICT var, int varoff,
                             GLOBAL const float* RESTRICT g, int goff, GLOBAL float* RESTRICT dmu, GLOBAL float* RESTRICT dls) {
    const int i = GLOBAL_ID_X;
    if (i < n) {
        const float gi = g[goff + i / d];
        dmu[i] = mu[muoff + i] * gi;
        dls[i] = (var[varoff + i] - 1.0f) * gi;
    }
}

// Backend.gaussianLogDensity for row r < rows of z [rows, d] (from zoff) with row b = r mod batch of mu and logSigma
// [batch, d] (from muoff, lsoff): inv = exp(-logSigma) (written by the rows r < batch), u = (z - mu) inv, and
// y[r] = (sum over j of u^2 (-1/2) - logSigma, added in double in index order) - d log(2 pi) / 2.
KERNEL void gaussian_log_rows(int rows, int d, int batch, GLOBAL const float* RESTRICT z, int zoff, GLOBAL const float* RESTRICT mu,
                              int muoff, GLOBAL const float* RESTRICT ls, int lsoff, GLOBAL float* RESTRICT y, GLOBAL float* RESTRICT u,
                              GLOBAL float* RESTRICT inv) {
    const int r = GLOBAL_ID_X;
    if (r < rows) {
        const int b = r % batch;
        double acc = 0.0;
        for (int j = 0; j < d; j++) {
            const float l = ls[lsoff + b * d + j];
            const float iv = expf(-l);
            if (r < batch) {
                inv[b * d + j] = iv;
            }
            const float uu = (z[zoff + r * d + j] - mu[muoff + b * d + j]) * iv;
            u[r * d + j] = uu;
            acc += uu * uu * -0.5f - l;
        }
        y[r] = (float) acc - d * HALF_LOG_2PI;
    }
}

// Backend.gaussianLogGrad for rows [per, batch, d] of u with inv [batch, d] and g [per, batch] (from goff): one work-item per
// element t = (b, j) of [batch, d]; for each k in order, with i the element (k, b, j) and dz = u_i inv_t g_kb:
// gz[i] = -dz (when wantZ), and gmu[t] = sum of dz, gls[t] = sum of (u_i^2 - 1) g_kb, added in double.
KERNEL void gaussian_log_grad(int per, int batch, int d, GLOBAL const float* RESTRICT u, GLOBAL const float* RESTRICT inv,
                              GLOBAL const float* RESTRICT g, int goff, GLOBAL float* RESTRICT gz, int wantZ, GLOBAL float* RESTRICT gmu,
                              GLOBAL float* RESTRICT gls) {
    const int t = GLOBAL_ID_X;
    if (t < batch * d) {
        const int b = t / d;
        double accMu = 0.0, accLs = 0.0;
        for (int k = 0; k < per; k++) {
            const int i = (k * batch) * d + t;
            const float gk = g[goff + k * batch + b], ui = u[i];
            const float dz = (ui * inv[t]) * gk;
            if (wantZ) {
                gz[i] = -dz;
            }
            accMu += dz;
            accLs += (ui * ui - 1.0f) * gk;
        }
        gmu[t] = (float) accMu;
        gls[t] = (float) accLs;
    }
}

// Backend.reparameterize: z[i] = mu[j] + exp(logSigma[j]) eps[i], j = i mod inner (mu and logSigma of inner values broadcast
// over eps's leading dimensions, from muoff, lsoff; eps from eoff), and sigma[j] = exp(logSigma[j]) (written by i < inner).
KERNEL void reparameterize(int n, int inner, GLOBAL const float* RESTRICT mu, int muoff, GLOBAL const float* RESTRICT ls, int lsoff,
                           GLOBAL const float* RESTRICT eps, int eoff, GLOBAL float* RESTRICT z, GLOBAL float* RESTRICT sigma) {
    const int i = GLOBAL_ID_X;
    if (i < n) {
        const int j = i % inner;
        const float s = expf(ls[lsoff + j]);
        if (i < inner) {
            sigma[j] = s;
        }
        z[i] = mu[muoff + j] + s * eps[eoff + i];
    }
}

// Backend.reparameterizeGrad for g and eps [per, inner] (from goff, eoff): one work-item per t < inner, summing over k in
// order in double: dmu[t] = sum of g, dls[t] = (sum of g eps) sigma[t].
KERNEL void reparameterize_grad(int per, int inner, GLOBAL const float* RESTRICT g, int goff, GLOBAL const float* RESTRICT eps, int eoff,
                                GLOBAL const float* RESTRICT sigma, GLOBAL float* RESTRICT dmu, GLOBAL float* RESTRICT dls) {
    const int t = GLOBAL_ID_X;
    if (t < inner) {
        double accMu = 0.0, accLs = 0.0;
        for (int k = 0; k < per; k++) {
            const float gk = g[goff + k * inner + t];
            accMu += gk;
            accLs += gk * eps[eoff + k * inner + t];
        }
        dmu[t] = (float) accMu;
        dls[t] = (float) accLs * sigma[t];
    }
}

// Backend.gaussianTerms for row r < rows of logSigma [rows, d] (from lsoff): a = exp(-logSigma), s = -a, and
// c[r] = -(sum over j of logSigma, added in double in index order) - offset (Backend's constant: `constant` is an address
// space in OpenCL C).
KERNEL void gaussian_terms(int rows, int d, GLOBAL const float* RESTRICT ls, int lsoff, float offset, GLOBAL float* RESTRICT a,
                           GLOBAL float* RESTRICT s, GLOBAL float* RESTRICT c) {
    const int r = GLOBAL_ID_X;
    if (r < rows) {
        double acc = 0.0;
        for (int j = 0; j < d; j++) {
            const int i = r * d + j;
            const float l = ls[lsoff + i];
            const float e = expf(-l);
            a[i] = e;
            s[i] = -e;
            acc += l;
        }
        c[r] = -((float) acc) - offset;
    }
}

// ---------------------------------------------------------------- the fused decoder in one launch
// decoder_rows: log p(x, z) and d/dz of the decoder z -> tanh(W1 z + b1) -> tanh(W2 h1 + b2) -> logits W3 h2 + b3
// (Bernoulli outputs, standard normal prior; W [out, in] row-major) for DEC_ROWS rows per group of DEC_THREADS
// work-items, every intermediate in local memory. The work is a list of steps, each one product of DEC_THREADS
// columns for the group's rows and its epilogue, in this order:
//   FWD1, FWD2      h1 = tanh(z W1^T + b1), h2 = tanh(h1 W2^T + b2), DEC_THREADS columns a step;
//   per DEC_THREADS logits: LOGITS (l = h2 W3^T + b3 for those columns: the log-likelihood terms x l - softplus(l)
//                   per work-item, g3 = x - sigmoid(l)), then BACK3 (g2 += g3 W3 for those rows of W3; after the
//                   last logits g2 *= 1 - h2^2), DEC_THREADS columns of g2 a step;
//   BACK2, BACK1    g1 = (g2 W2) (1 - h1^2) in h1's place, dz = g1 W1 - z;
// then the log-likelihood per row (the work-items' terms added in index order) and the prior. Without wantGrad
// the BACK steps are left out. One loop runs the steps, so that the group meets the same few barriers in every
// step (PoCL compiles a barrier inside a branch or in many places into much larger code). Activations are stored
// k-major (element [k, r] of the DEC_ROWS-row block at k DEC_ROWS + r): a work-item reads one k of every row at
// once. A work-item owns one output column of a step for all DEC_ROWS rows, and the group stages a DEC_KTILE x
// DEC_THREADS slice of the weights in Ws, loaded row by row of W (neighbouring work-items read neighbouring
// words). The host takes this kernel where (Z + H1 + 2 H2 + DEC_THREADS) DEC_ROWS <= DEC_LOCAL
// (Kernels.decoderFits), else sgemm and bernoulli_rows.
#define DEC_ROWS 8
#define DEC_THREADS 256
#define DEC_KTILE 16
#define DEC_LOCAL 8064

#define DEC_FWD1 0
#define DEC_FWD2 1
#define DEC_LOGITS 2
#define DEC_BACK3 3
#define DEC_BACK2 4
#define DEC_BACK1 5

// Rows n < N of z (zoff, [N, Z]) with data row n mod B of x (xoff, [B, D]): logp[logpoff + n] when wantLogp,
// grad[gradoff + n Z + j] = d logp / dz_nj when wantGrad. Launched as ceil(N / DEC_ROWS) groups of DEC_THREADS.
KERNEL void decoder_rows(int N, int B, int Z, int H1, int H2, int D,
                         GLOBAL const float* RESTRICT W1, int w1off, GLOBAL const float* RESTRICT b1, int b1off,
                         GLOBAL const float* RESTRICT W2, int w2off, GLOBAL const float* RESTRICT b2, int b2off,
                         GLOBAL const float* RESTRICT W3, int w3off, GLOBAL const float* RESTRICT b3, int b3off,
                         GLOBAL const float* RESTRICT Zs, int zoff, GLOBAL const float* RESTRICT X, int xoff,
                         GLOBAL float* RESTRICT logp, int logpoff, int wantLogp, GLOBAL float* RESTRICT grad, int gradoff,
                         int wantGrad) {
    LOCAL float act[DEC_LOCAL];
    LOCAL float Ws[DEC_KTILE][DEC_THREADS + 1];
    const int lid = LOCAL_ID_X, row0 = GROUP_ID_X * DEC_ROWS;
    // act: z^T [Z], h1 [H1] (g1 on the way back), h2 [H2], g2 [H2], then DEC_THREADS columns of g3 (at the end the
    // work-items' log-likelihood terms), each of DEC_ROWS rows
    const int oz = 0, o1 = Z * DEC_ROWS, o2 = o1 + H1 * DEC_ROWS, og = o2 + H2 * DEC_ROWS, oc = og + H2 * DEC_ROWS;
    W1 += w1off; b1 += b1off; W2 += w2off; b2 += b2off; W3 += w3off; b3 += b3off;
    Zs += zoff; X += xoff;
    for (int e = lid; e < Z * DEC_ROWS; e += DEC_THREADS) {
        const int k = e / DEC_ROWS, r = e % DEC_ROWS;
        act[oz + e] = row0 + r < N ? Zs[(row0 + r) * Z + k] : 0.0f;
    }
    LOCAL_BARRIER();
    // the steps: column blocks of h1, of h2, per block of logits 1 + those of g2, then of g1 and of dz
    const int n1 = (H1 + DEC_THREADS - 1) / DEC_THREADS, n2 = (H2 + DEC_THREADS - 1) / DEC_THREADS;
    const int nd = (D + DEC_THREADS - 1) / DEC_THREADS, nz = (Z + DEC_THREADS - 1) / DEC_THREADS;
    const int per = wantGrad ? 1 + n2 : 1;
    const int steps = n1 + n2 + nd * per + (wantGrad ? n1 + nz : 0);
    float acc[DEC_ROWS], ll[DEC_ROWS];
    UNROLL
    for (int r = 0; r < DEC_ROWS; r++) ll[r] = 0.0f;
    for (int s = 0; s < steps; s++) {
        // which step: its kind, first output column c0 and (BACK3) block of logits d0
        int kind, c0, d0 = 0, t = s;
        if (t < n1) {
            kind = DEC_FWD1; c0 = t * DEC_THREADS;
        } else if ((t -= n1) < n2) {
            kind = DEC_FWD2; c0 = t * DEC_THREADS;
        } else if ((t -= n2) < nd * per) {
            d0 = t / per * DEC_THREADS;
            const int u = t % per;
            kind = u == 0 ? DEC_LOGITS : DEC_BACK3;
            c0 = u == 0 ? d0 : (u - 1) * DEC_THREADS;
        } else if ((t -= nd * per) < n1) {
            kind = DEC_BACK2; c0 = t * DEC_THREADS;
        } else {
            kind = DEC_BACK1; c0 = (t - n1) * DEC_THREADS;
        }
        // its product: acc[r] (+)= sum_{k < K} act[in + k DEC_ROWS + r] w(k, c0 + lid), where w(k, c) = W[c ld + k] for
        // the forward steps (W stored [columns, K]) and W[k ld + c] for the backward ones; columns c >= nc read 0
        const int fwd = kind <= DEC_LOGITS;
        const int in = kind == DEC_FWD1 ? oz : kind == DEC_FWD2 ? o1 : kind == DEC_LOGITS ? o2
                     : kind == DEC_BACK3 ? oc : kind == DEC_BACK2 ? og : o1;
        GLOBAL const float* W = kind == DEC_FWD1 || kind == DEC_BACK1 ? W1 : kind == DEC_FWD2 || kind == DEC_BACK2 ? W2
                              : kind == DEC_BACK3 ? W3 + d0 * H2 : W3;
        const int ld = kind == DEC_FWD1 || kind == DEC_BACK1 ? Z : kind == DEC_FWD2 || kind == DEC_BACK2 ? H1 : H2;
        const int K = kind == DEC_FWD1 ? Z : kind == DEC_FWD2 || kind == DEC_BACK1 ? H1 : kind == DEC_LOGITS || kind == DEC_BACK2 ? H2
                    : (D - d0 < DEC_THREADS ? D - d0 : DEC_THREADS);
        const int nc = kind == DEC_FWD1 || kind == DEC_BACK2 ? H1 : kind == DEC_LOGITS ? D : kind == DEC_BACK1 ? Z : H2;
        const int c = c0 + lid;
        UNROLL
        for (int r = 0; r < DEC_ROWS; r++) {
            acc[r] = kind == DEC_BACK3 && d0 > 0 && c < nc ? act[og + c * DEC_ROWS + r] : 0.0f;
        }
        for (int k0 = 0; k0 < K; k0 += DEC_KTILE) {
            for (int e = lid; e < DEC_KTILE * DEC_THREADS; e += DEC_THREADS) {
                const int kk = fwd ? e % DEC_KTILE : e / DEC_THREADS, cc = fwd ? e / DEC_KTILE : e % DEC_THREADS;
                const int k = k0 + kk, cw = c0 + cc;
                Ws[kk][cc] = (k < K && cw < nc) ? (fwd ? W[cw * ld + k] : W[k * ld + cw]) : 0.0f;
            }
            LOCAL_BARRIER();
            const int kn = K - k0 < DEC_KTILE ? K - k0 : DEC_KTILE;
            for (int kk = 0; kk < kn; kk++) {
                const float w = Ws[kk][lid];
                const int i = in + (k0 + kk) * DEC_ROWS;
                UNROLL
                for (int r = 0; r < DEC_ROWS; r++) {
                    acc[r] = fmaf(act[i + r], w, acc[r]);
                }
            }
            LOCAL_BARRIER();
        }
        // its epilogue, for the work-item's column
        if (c < nc) {
            UNROLL
            for (int r = 0; r < DEC_ROWS; r++) {
                if (kind == DEC_FWD1) {
                    act[o1 + c * DEC_ROWS + r] = tanhf(acc[r] + b1[c]);
                } else if (kind == DEC_FWD2) {
                    act[o2 + c * DEC_ROWS + r] = tanhf(acc[r] + b2[c]);
                } else if (kind == DEC_LOGITS) {
                    const float l = acc[r] + b3[c], x = X[((row0 + r) % B) * D + c];
                    if (wantLogp) {
                        ll[r] += bernoulli_log(x, l);
                    }
                    act[oc + lid * DEC_ROWS + r] = bernoulli_grad(x, l);
                } else if (kind == DEC_BACK3) {
                    const float h = act[o2 + c * DEC_ROWS + r];
                    act[og + c * DEC_ROWS + r] = d0 + DEC_THREADS >= D ? acc[r] * fmaf(-h, h, 1.0f) : acc[r];
                } else if (kind == DEC_BACK2) {
                    const float h = act[o1 + c * DEC_ROWS + r];
                    act[o1 + c * DEC_ROWS + r] = acc[r] * fmaf(-h, h, 1.0f);
                } else if (row0 + r < N) {
                    grad[gradoff + (row0 + r) * Z + c] = acc[r] - act[oz + c * DEC_ROWS + r];
                }
            }
        }
        LOCAL_BARRIER();
    }
    // log p per row: the work-items' terms in index order, then the prior
    UNROLL
    for (int r = 0; r < DEC_ROWS; r++) act[oc + r * DEC_THREADS + lid] = ll[r];
    LOCAL_BARRIER();
    if (wantLogp && lid < DEC_ROWS && row0 + lid < N) {
        float sum = 0.0f, zz = 0.0f;
        for (int i = 0; i < DEC_THREADS; i++) {
            sum += act[oc + lid * DEC_THREADS + i];
        }
        for (int k = 0; k < Z; k++) {
            const float v = act[oz + k * DEC_ROWS + lid];
            zz += v * v;
        }
        logp[logpoff + row0 + lid] = sum - 0.5f * zz - Z * HALF_LOG_2PI;
    }
}

// ---------------------------------------------------------------- HMC and AIS on the device
// Every kernel below is one-dimensional: it takes its work-item count n first and ignores work-items
// beyond it (the host rounds the launch up to whole groups).

// Philox4x32-10, as org.aiwae.engine.random.Philox: counter (c0..c3), key (k0, k1).
FUNC uint4 philox(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1) {
    for (int r = 0; r < 10; r++) {
        const uint hi0 = MUL_HI(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        const uint hi1 = MUL_HI(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        const uint n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
    }
    return MAKE_UINT4(c0, c1, c2, c3);
}

// The four values of one Philox block: normals by Box-Muller in double on the word pairs (0,1) and
// (2,3), as RandomStream.boxMuller, or uniforms (w >> 8) * 2^-24.
FUNC void philox_values(uint4 w, int normal, float* v) {
    if (normal) {
        const double inv = 1.0 / 16777216.0;
        double u1 = ((w.x >> 8) + 1) * inv, u2 = (w.y >> 8) * inv;
        double r = sqrt(-2.0 * log(u1)), t = TWO_PI * u2;
        v[0] = (float) (r * cos(t)); v[1] = (float) (r * sin(t));
        u1 = ((w.z >> 8) + 1) * inv; u2 = (w.w >> 8) * inv;
        r = sqrt(-2.0 * log(u1)); t = TWO_PI * u2;
        v[2] = (float) (r * cos(t)); v[3] = (float) (r * sin(t));
    } else {
        const float inv = 1.0f / 16777216.0f;
        v[0] = (w.x >> 8) * inv; v[1] = (w.y >> 8) * inv; v[2] = (w.z >> 8) * inv; v[3] = (w.w >> 8) * inv;
    }
}

// n values of a RandomStream(seed, id) starting at block `position`: block b gives values 4b..4b+3.
KERNEL void philox_fill(int n, uint seedLo, uint seedHi, uint idLo, uint idHi, int64 position, int normal,
                        GLOBAL float* out) {
    const int b = GLOBAL_ID_X;
    if (4 * b >= n) return;
    const uint64 ctr = (uint64) position + (uint64) b;
    float v[4];
    philox_values(philox((uint) ctr, (uint) (ctr >> 32), idLo, idHi, seedLo, seedHi), normal, v);
    for (int j = 0; j < 4 && 4 * b + j < n; j++) {
        out[4 * b + j] = v[j];
    }
}

// philox_fill with the stream's key read from device memory: key[koff..koff+3] = seedLo, seedHi, idLo, idHi (as the
// bits of floats), so that a recorded step replays with the stream its caller wrote there. Then n2 uniforms into out2
// from the blocks that follow (Backend.philoxNormalsThenUniforms: a transition's momenta and Metropolis uniforms).
KERNEL void philox_fill_keyed(int n, GLOBAL const uint* key, int koff, int64 position, int normal, GLOBAL float* out, int n2,
                              GLOBAL float* out2) {
    const int b = GLOBAL_ID_X, blocks = (n + 3) / 4;
    const int first = b < blocks, k = first ? b : b - blocks, count = first ? n : n2;
    if (4 * k >= count) return;
    const uint64 ctr = (uint64) position + (uint64) b;
    float v[4];
    philox_values(philox((uint) ctr, (uint) (ctr >> 32), key[koff + 2], key[koff + 3], key[koff], key[koff + 1]), first ? normal : 0, v);
    GLOBAL float* o = first ? out : out2;
    for (int j = 0; j < 4 && 4 * k + j < count; j++) {
        o[4 * k + j] = v[j];
    }
}

// ChainNoise.PerGroup: group g draws per*dim values from stream (seed, ids[2g] | ids[2g+1] << 32) at
// blocks position.. (items / groups blocks each), written as out[per, groups, dim]. When clock is not null (an AIS
// temperature clock, ais_tick), the position is position + clock[0] stride.
KERNEL void philox_fill_groups(int items, int groups, int per, int dim, uint seedLo, uint seedHi,
                               GLOBAL const uint* ids, int64 position, int normal, GLOBAL float* out, GLOBAL const float* clock,
                               int clocked, int64 stride) {
    const int w = GLOBAL_ID_X;
    if (w >= items) return;
    const int blocks = items / groups, g = w / blocks, b = w % blocks, n = per * dim;
    const uint64 ctr = (uint64) position + (clocked ? (uint64) clock[0] * (uint64) stride : (uint64) 0) + (uint64) b;
    float v[4];
    philox_values(philox((uint) ctr, (uint) (ctr >> 32), ids[2 * g], ids[2 * g + 1], seedLo, seedHi), normal, v);
    for (int j = 0; j < 4 && 4 * b + j < n; j++) {
        const int i = 4 * b + j, k = i / dim;
        out[(k * groups + g) * dim + (i - k * dim)] = v[j];
    }
}

// ---------------------------------------------------------------- tensor primitives
// The DeviceBackend's primitive set on device tensors (org.aiwae.engine.backend.Backend): elementwise
// maps of one tensor, of two broadcast tensors and of a tensor and a constant, reductions over an
// axis, and a masked select. The op codes are the ordinals of UnaryOp and BinaryOp; the float maths
// follows their reference definitions (the CPU's FloatMath to a few ulp).
#define U_NEG 0
#define U_EXP 1
#define U_LOG 2
#define U_TANH 3
#define U_SIGMOID 4
#define U_SOFTPLUS 5
#define U_SQUARE 6
#define U_SQRT 7

#define B_ADD 0
#define B_SUB 1
#define B_MUL 2
#define B_DIV 3
#define B_TANH_GRAD 4
#define B_SIGMOID_GRAD 5
#define B_LESS 6

#define R_SUM 0
#define R_MAX 1

FUNC float unary_f(int op, float x) {
    switch (op) {
    case U_NEG: return -x;
    case U_EXP: return expf(x);
    case U_LOG: return logf(x);
    case U_TANH: return tanhf(x);
    case U_SIGMOID: return sigmoid_f(x);
    case U_SOFTPLUS: return softplus_f(x);
    case U_SQUARE: return x * x;
    default: return sqrtf(x);
    }
}

FUNC float binary_f(int op, float a, float b) {
    switch (op) {
    case B_ADD: return a + b;
    case B_SUB: return a - b;
    case B_MUL: return a * b;
    case B_DIV: return a / b;
    case B_TANH_GRAD: return a * (1.0f - b * b);
    case B_SIGMOID_GRAD: return a * b * (1.0f - b);
    default: return a < b ? 1.0f : 0.0f;
    }
}

// y[i] = op(x[xoff + i]) for i < n.
KERNEL void unary_op(int n, int op, GLOBAL const float* RESTRICT x, int xoff, GLOBAL float* RESTRICT y) {
    const int i = GLOBAL_ID_X;
    if (i < n) {
        y[i] = unary_f(op, x[xoff + i]);
    }
}

// y[i] = op(x[xoff + i], c) for i < n.
KERNEL void binary_scalar(int n, int op, GLOBAL const float* RESTRICT x, int xoff, float c, GLOBAL float* RESTRICT y) {
    const int i = GLOBAL_ID_X;
    if (i < n) {
        y[i] = binary_f(op, x[xoff + i], c);
    }
}

// y[i] = op(a[...], b[...]) over an output of shape [n / (d1 d2 d3), d1, d2, d3] (row-major); an
// operand's element is at its offset plus the output index times its strides (0 where it broadcasts).
KERNEL void binary_op(int n, int op, int d1, int d2, int d3,
                      GLOBAL const float* RESTRICT a, int aoff, int as0, int as1, int as2, int as3,
                      GLOBAL const float* RESTRICT b, int boff, int bs0, int bs1, int bs2, int bs3,
                      GLOBAL float* RESTRICT y) {
    const int i = GLOBAL_ID_X;
    if (i < n) {
        int r = i;
        const int i3 = r % d3;
        r /= d3;
        const int i2 = r % d2;
        r /= d2;
        const int i1 = r % d1;
        const int i0 = r / d1;
        y[i] = binary_f(op, a[aoff + i0 * as0 + i1 * as1 + i2 * as2 + i3 * as3],
                        b[boff + i0 * bs0 + i1 * bs1 + i2 * bs2 + i3 * bs3]);
    }
}

// x viewed as [outer, n, inner] from xoff: y[o, j] = sum (in double) or max over i of x[o, i, j].
// One work-item per output element, each adding in index order.
KERNEL void reduce_axis(int outer, int n, int inner, int op, GLOBAL const float* RESTRICT x, int xoff,
                        GLOBAL float* RESTRICT y) {
    const int t = GLOBAL_ID_X;
    if (t < outer * inner) {
        const int o = t / inner, j = t - o * inner;
        GLOBAL const float* p = x + xoff + (int64) o * n * inner + j;
        if (op == R_SUM) {
            double acc = 0.0;
            for (int i = 0; i < n; i++) {
                acc += p[(int64) i * inner];
            }
            y[t] = (float) acc;
        } else {
            float m = p[0];
            for (int i = 1; i < n; i++) {
                const float v = p[(int64) i * inner];
                m = (v > m || v != v) ? v : m;
            }
            y[t] = m;
        }
    }
}

// Backend.logSumExp: x viewed as [outer, n, inner] from xoff: with m the maximum over i of x[o, i, j] (a NaN wins, as in
// reduce_axis), y[o, j] = log(sum over i of exp(x[o, i, j] - m), added in double in index order) + m. One work-item per output.
KERNEL void logsumexp_axis(int outer, int n, int inner, GLOBAL const float* RESTRICT x, int xoff, GLOBAL float* RESTRICT y) {
    const int t = GLOBAL_ID_X;
    if (t < outer * inner) {
        const int o = t / inner, j = t - o * inner;
        GLOBAL const float* p = x + xoff + (int64) o * n * inner + j;
        float m = p[0];
        for (int i = 1; i < n; i++) {
            const float v = p[(int64) i * inner];
            m = (v > m || v != v) ? v : m;
        }
        double acc = 0.0;
        for (int i = 0; i < n; i++) {
            acc += expf(p[(int64) i * inner] - m);
        }
        y[t] = logf((float) acc) + m;
    }
}

// Backend.logSumExpGrad: out[o, i, j] = exp(x[o, i, j] - y[o, j]) g[o, j] for x viewed as [outer, n, inner] from xoff.
KERNEL void logsumexp_grad(int outer, int n, int inner, GLOBAL const float* RESTRICT x, int xoff, GLOBAL const float* RESTRICT y, int yoff,
                           GLOBAL const float* RESTRICT g, int goff, GLOBAL float* RESTRICT out) {
    const int t = GLOBAL_ID_X;
    if (t < outer * n * inner) {
        const int o = t / (n * inner), j = t % inner;
        const int k = o * inner + j;
        out[t] = expf(x[xoff + t] - y[yoff + k]) * g[goff + k];
    }
}

// Backend.expand: y viewed as [outer, n, inner]: y[o, i, j] = g[goff + o inner + j].
KERNEL void expand_axis(int outer, int n, int inner, GLOBAL const float* RESTRICT g, int goff, GLOBAL float* RESTRICT y) {
    const int t = GLOBAL_ID_X;
    if (t < outer * n * inner) {
        const int o = t / (n * inner), j = t % inner;
        y[t] = g[goff + o * inner + j];
    }
}

// x viewed as [rows, n] from xoff: y[r] = sum (in double) or max of row r; one group of ROW_THREADS per
// row, each work-item striding over the row, then a fixed tree over the group (same order every run).
KERNEL void reduce_rows(int rows, int n, int op, GLOBAL const float* RESTRICT x, int xoff, GLOBAL float* RESTRICT y) {
    LOCAL double part[ROW_THREADS];
    const int r = GROUP_ID_X, lid = LOCAL_ID_X;
    GLOBAL const float* p = x + xoff + (int64) r * n;
    double acc = op == R_SUM ? 0.0 : (double) p[lid < n ? lid : n - 1];
    for (int i = lid; i < n; i += ROW_THREADS) {
        const double v = p[i];
        acc = op == R_SUM ? acc + v : ((v > acc || v != v) ? v : acc);
    }
    part[lid] = acc;
    LOCAL_BARRIER();
    for (int s = ROW_THREADS / 2; s > 0; s >>= 1) {
        if (lid < s) {
            const double o = part[lid + s];
            part[lid] = op == R_SUM ? part[lid] + o : ((o > part[lid] || o != o) ? o : part[lid]);
        }
        LOCAL_BARRIER();
    }
    if (lid == 0 && r < rows) {
        y[r] = (float) part[0];
    }
}

// Backend.scaledSum: y[0] = scale sum over i < n of a[aoff + i] w[woff + i] (of a alone unless hasW), each product rounded to
// float and added in double as reduce_rows adds one row: one group of ROW_THREADS, a fixed tree.
KERNEL void scaled_sum(int n, GLOBAL const float* RESTRICT a, int aoff, GLOBAL const float* RESTRICT w, int woff, int hasW, float scale,
                       GLOBAL float* RESTRICT y) {
    LOCAL double part[ROW_THREADS];
    const int lid = LOCAL_ID_X;
    double acc = 0.0;
    for (int i = lid; i < n; i += ROW_THREADS) {
        const float v = hasW ? a[aoff + i] * w[woff + i] : a[aoff + i];
        acc += v;
    }
    part[lid] = acc;
    GROUP_TREE_SUM(part, lid);
    if (lid == 0) {
        y[0] = (float) part[0] * scale;
    }
}

// Backend.scaledSumGrad: y[i] = (g[goff] scale) w[woff + i] (or g[goff] scale unless hasW) for i < n.
KERNEL void scaled_sum_grad(int n, GLOBAL const float* RESTRICT g, int goff, float scale, GLOBAL const float* RESTRICT w, int woff, int hasW,
                            GLOBAL float* RESTRICT y) {
    const int i = GLOBAL_ID_X;
    if (i < n) {
        const float gs = g[goff] * scale;
        y[i] = hasW ? gs * w[woff + i] : gs;
    }
}

// The masked select: y[i] = mask[moff + i / inner] != 0 ? a[aoff + i] : b[boff + i] for i < n (the mask
// has one value per row of inner elements: the accept/reject of a Metropolis test per chain).
KERNEL void where_rows(int n, int inner, GLOBAL const float* RESTRICT mask, int moff, GLOBAL const float* RESTRICT a, int aoff,
                       GLOBAL const float* RESTRICT b, int boff, GLOBAL float* RESTRICT y) {
    const int i = GLOBAL_ID_X;
    if (i < n) {
        y[i] = mask[moff + i / inner] != 0.0f ? a[aoff + i] : b[boff + i];
    }
}

// ---------------------------------------------------------------- fused HMC, AIS, step-size and Adam updates
// Each kernel below does in one launch what the composed default of the Backend method named beside it does
// with the primitives above (org.aiwae.engine.backend.Backend; FusedOpsTest compares the two on every backend).
// Outputs may alias inputs where the comment says so: each work-item reads its elements before writing them.

// Backend.mix (not named mix: OpenCL C has a built-in of that name): y[i] = a[i] ca + b[i] cb.
KERNEL void weighted_sum(int n, GLOBAL const float* RESTRICT a, int aoff, float ca, GLOBAL const float* RESTRICT b, int boff, float cb,
                GLOBAL float* RESTRICT y) {
    const int i = GLOBAL_ID_X;
    if (i < n) {
        y[i] = a[aoff + i] * ca + b[boff + i] * cb;
    }
}

// Backend.scaledDifference: y[i] = ((z[i] - mu[j]) a[j]) b[j] with j = i mod inner (mu, a, b of `inner` values
// broadcast over z's leading dimensions; b left out when hasB = 0): a diagonal Gaussian's standardised values
// (a = 1 / sigma) and its score (b = -1 / sigma).
KERNEL void scaled_difference(int n, int inner, GLOBAL const float* RESTRICT z, int zoff, GLOBAL const float* RESTRICT mu, int muoff,
                              GLOBAL const float* RESTRICT a, int aoff, GLOBAL const float* RESTRICT b, int boff, int hasB,
                              GLOBAL float* RESTRICT y) {
    const int i = GLOBAL_ID_X;
    if (i < n) {
        const int j = i % inner;
        const float u = (z[zoff + i] - mu[muoff + j]) * a[aoff + j];
        y[i] = hasB ? u * b[boff + j] : u;
    }
}

// Backend.diagonalGaussian: for chain row r < n of z [n, d], data point b = r mod batch: u = (z - mu_b) a_b,
// logq[r] = (sum_j u_j^2, in double in index order) (-1/2) + offset[b], grad[r] = u s_b (a = 1 / sigma, s = -1 / sigma;
// offset is Backend's constant: `constant` is an address space in OpenCL C).
KERNEL void diagonal_gaussian(int n, int d, int batch, GLOBAL const float* RESTRICT z, int zoff, GLOBAL const float* RESTRICT mu,
                              GLOBAL const float* RESTRICT a, GLOBAL const float* RESTRICT s, GLOBAL const float* RESTRICT offset,
                              GLOBAL float* RESTRICT logq, GLOBAL float* RESTRICT grad) {
    const int r = GLOBAL_ID_X;
    if (r < n) {
        const int b = r % batch;
        double sq = 0.0;
        for (int j = 0; j < d; j++) {
            const float u = (z[zoff + r * d + j] - mu[b * d + j]) * a[b * d + j];
            sq += u * u;
            grad[r * d + j] = u * s[b * d + j];
        }
        logq[r] = (float) sq * -0.5f + offset[b];
    }
}

// An AIS temperature clock (DeviceBackend.clocked): clock[0] = i, the temperature step the device is at (a float, exact
// below 2^24), then three floats per step, (b0, b1, dbeta) of step i at 1 + 3 i. The clocked kernels read their inverse
// temperatures there instead of from their scalar arguments, and offset their count and Philox position by i, so that
// one recorded temperature replays at every temperature; ais_tick moves the clock to the next step.
#define AIS_CLOCK_ROW(clock) (1 + 3 * (int) (clock)[0])

KERNEL void ais_tick(GLOBAL float* clock) {
    if (GLOBAL_ID_X == 0) {
        clock[0] = clock[0] + 1.0f;
    }
}

// Backend.kickDrift and Backend.temperedKickDrift over chains [n / d, d]: the gradient g (from goff) or, when gaussian,
// a diagonal Gaussian's score ((z - mu_j) a_j) s_j at z, j = i mod inner (Backend.scaledDifference); when tempered, mixed
// with g1 as g b0 + g1 b1 (Backend.mix); then p' = p + (eps_r scale) g with eps_r = eps[eoff + r] for chain r when
// perChain, else eps[eoff]; then, when drift, z' = z + eps_r p'. pOut may alias p, zOut may alias z.
KERNEL void hmc_kick_drift(int n, int d, GLOBAL const float* eps, int eoff, int perChain, float scale,
                           GLOBAL const float* p, int poff, GLOBAL const float* g, int goff,
                           int gaussian, int inner, GLOBAL const float* mu, int muoff, GLOBAL const float* a, int aoff,
                           GLOBAL const float* s, int soff, int tempered, float b0, GLOBAL const float* g1, int g1off, float b1,
                           GLOBAL float* pOut, GLOBAL const float* z, int zoff, GLOBAL float* zOut, int drift,
                           GLOBAL const float* clock, int clocked) {
    const int i = GLOBAL_ID_X;
    if (i < n) {
        if (clocked) {
            b0 = clock[AIS_CLOCK_ROW(clock)];
            b1 = clock[AIS_CLOCK_ROW(clock) + 1];
        }
        const float e = eps[eoff + (perChain ? i / d : 0)];
        float gi;
        if (gaussian) {
            const int j = i % inner;
            gi = ((z[zoff + i] - mu[muoff + j]) * a[aoff + j]) * s[soff + j];
        } else {
            gi = g[goff + i];
        }
        if (tempered) {
            gi = gi * b0 + g1[g1off + i] * b1;
        }
        const float pn = p[poff + i] + (scale == 1.0f ? e : e * scale) * gi;
        pOut[i] = pn;
        if (drift) {
            zOut[i] = z[zoff + i] + e * pn;
        }
    }
}

// Backend.metropolis and Backend.temperedMetropolis for chain r < n of dimension d: H = |p|^2 / 2 - log f at the start
// (p0, logf0) and at the proposal (p1, logf1), where log f is, when tempered, logf b0 + logg b1 (Backend.mix of the two terms
// logf0, logg0 and logf1, logg1); dH = H1 - H0, accepted = u < exp(-dH), divergent = 0 if dH < limit else 1 (also for a
// NaN), each |p|^2 summed in double in index order; divergentSum (if not null) += divergent.
KERNEL void hmc_metropolis(int n, int d, GLOBAL const float* RESTRICT p0, int p0off, GLOBAL const float* RESTRICT logf0, int l0off,
                           GLOBAL const float* RESTRICT p1, int p1off, GLOBAL const float* RESTRICT logf1, int l1off,
                           int tempered, GLOBAL const float* RESTRICT logg0, int g0off, GLOBAL const float* RESTRICT logg1, int g1off,
                           float b0, float b1, GLOBAL const float* RESTRICT u, int uoff, float limit, GLOBAL float* RESTRICT accepted,
                           GLOBAL float* RESTRICT divergent, GLOBAL float* RESTRICT energyChange, GLOBAL float* divergentSum, int addDivergent,
                           GLOBAL const float* RESTRICT clock, int clocked) {
    const int r = GLOBAL_ID_X;
    if (r < n) {
        if (clocked) {
            b0 = clock[AIS_CLOCK_ROW(clock)];
            b1 = clock[AIS_CLOCK_ROW(clock) + 1];
        }
        double k0 = 0.0, k1 = 0.0;
        for (int j = 0; j < d; j++) {
            const float a = p0[p0off + r * d + j], b = p1[p1off + r * d + j];
            k0 += a * a;
            k1 += b * b;
        }
        float f0 = logf0[l0off + r], f1 = logf1[l1off + r];
        if (tempered) {
            f0 = f0 * b0 + logg0[g0off + r] * b1;
            f1 = f1 * b0 + logg1[g1off + r] * b1;
        }
        const float h0 = (float) k0 * 0.5f - f0, h1 = (float) k1 * 0.5f - f1;
        const float dh = h1 - h0;
        accepted[r] = u[uoff + r] < expf(-dh) ? 1.0f : 0.0f;
        const float div = dh < limit ? 0.0f : 1.0f;
        divergent[r] = div;
        energyChange[r] = dh;
        if (addDivergent) {
            divergentSum[r] += div;
        }
    }
}

// Backend.selectInto and Backend.selectAllInto over rows r < rows: where mask[moff + r] != 0, row r of each slot's a (from
// aoffs, rows of inners elements) is copied into y (from yoffs), else y is left as it is; a slot with inner 0 is absent.
// Work-item i takes element j = i mod width of row i / width of every slot with j < inner (width: the widest slot).
KERNEL void select_rows_into(int rows, int width, GLOBAL const float* RESTRICT mask, int moff,
                             int inner0, GLOBAL const float* RESTRICT a0, int aoff0, GLOBAL float* RESTRICT y0, int yoff0,
                             int inner1, GLOBAL const float* RESTRICT a1, int aoff1, GLOBAL float* RESTRICT y1, int yoff1,
                             int inner2, GLOBAL const float* RESTRICT a2, int aoff2, GLOBAL float* RESTRICT y2, int yoff2,
                             int inner3, GLOBAL const float* RESTRICT a3, int aoff3, GLOBAL float* RESTRICT y3, int yoff3,
                             int inner4, GLOBAL const float* RESTRICT a4, int aoff4, GLOBAL float* RESTRICT y4, int yoff4) {
    const int i = GLOBAL_ID_X;
    if (i < rows * width) {
        const int r = i / width, j = i - r * width;
        if (mask[moff + r] != 0.0f) {
            if (j < inner0) y0[yoff0 + r * inner0 + j] = a0[aoff0 + r * inner0 + j];
            if (j < inner1) y1[yoff1 + r * inner1 + j] = a1[aoff1 + r * inner1 + j];
            if (j < inner2) y2[yoff2 + r * inner2 + j] = a2[aoff2 + r * inner2 + j];
            if (j < inner3) y3[yoff3 + r * inner3 + j] = a3[aoff3 + r * inner3 + j];
            if (j < inner4) y4[yoff4 + r * inner4 + j] = a4[aoff4 + r * inner4 + j];
        }
    }
}

// Backend.reweight, Kahan's compensated sum: y = (l1 - l0) dbeta - c, s = w + y, c' = (s - w) - y, w' = s.
// wOut may alias w and cOut c.
KERNEL void ais_reweight(int n, GLOBAL const float* l0, int l0off, GLOBAL const float* l1, int l1off, float dbeta,
                         GLOBAL const float* w, int woff, GLOBAL const float* c, int coff, GLOBAL float* wOut, GLOBAL float* cOut,
                         GLOBAL const float* clock, int clocked) {
    const int i = GLOBAL_ID_X;
    if (i < n) {
        if (clocked) {
            dbeta = clock[AIS_CLOCK_ROW(clock) + 2];
        }
        const float inc = (l1[l1off + i] - l0[l0off + i]) * dbeta;
        const float wi = w[woff + i], y = inc - c[coff + i];
        const float s = wi + y;
        cOut[i] = (s - wi) - y;
        wOut[i] = s;
    }
}

// Backend.adaptStepSizes: one work-item per group g < groups of the chains [per, groups] in accepted (1 or 0):
// size[soff + g] *= (count_g >= threshold ? up : down), kept in [lo, hi]; work-item 0 also writes the number of
// accepting chains over all groups to count[coff].
KERNEL void adapt_step_sizes(int groups, int per, GLOBAL const float* RESTRICT accepted, int aoff, float threshold, float up,
                             float down, float lo, float hi, GLOBAL float* RESTRICT size, int soff, GLOBAL float* RESTRICT count, int coff,
                             GLOBAL const float* RESTRICT clock, int clocked) {
    const int g = GLOBAL_ID_X;
    if (clocked) {
        coff += (int) clock[0];
    }
    if (g < groups) {
        float c = 0.0f;
        for (int k = 0; k < per; k++) {
            c += accepted[aoff + k * groups + g];
        }
        const float s = size[soff + g] * (c >= threshold ? up : down);
        size[soff + g] = fminf(hi, fmaxf(lo, s));
        if (g == 0) {
            float all = 0.0f;
            for (int j = 0; j < per * groups; j++) {
                all += accepted[aoff + j];
            }
            count[coff] = all;
        }
    }
}

// Adam's gate: whether ga[0] and gb[0] are finite where the flags say they are given (a training step's two
// losses), so that a step whose loss is NaN or infinite changes no parameter.
FUNC int gate_open(GLOBAL const float* ga, int hasA, GLOBAL const float* gb, int hasB) {
    const float a = hasA ? ga[0] : 0.0f, b = hasB ? gb[0] : 0.0f;
    return a == a && fabsf(a) <= 3.402823466e38f && b == b && fabsf(b) <= 3.402823466e38f;
}

// Backend.adamClock: Adam's per-step scalars in clock = [t, stepSize, epsHat, lr]: unless the gate is closed, t += 1 and
// stepSize = lr sqrt(1 - b2^t) / (1 - b1^t), epsHat = eps sqrt(1 - b2^t), in double (one work-item).
KERNEL void adam_clock(GLOBAL float* clock, float beta1, float beta2, float eps, GLOBAL const float* ga, int hasA,
                       GLOBAL const float* gb, int hasB) {
    if (GLOBAL_ID_X == 0 && gate_open(ga, hasA, gb, hasB)) {
        const float t = clock[0] + 1.0f;
        const double c1 = 1.0 - pow((double) beta1, (double) t), c2 = 1.0 - pow((double) beta2, (double) t);
        clock[0] = t;
        clock[1] = (float) ((double) clock[3] * sqrt(c2) / c1);
        clock[2] = (float) ((double) eps * sqrt(c2));
    }
}

// One element of Adam's update: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g g, w -= stepSize m / (sqrt(v) + epsHat),
// the scalars from clock; each float operation rounded on its own in the order of engine.optim.Adam on the host (no
// contraction into an fma), so that the same inputs give the host's bits where sqrt and division are correctly rounded.
FUNC void adam_element(GLOBAL float* w, GLOBAL const float* g, GLOBAL float* m, GLOBAL float* v, int i, float beta1, float beta2,
                       GLOBAL const float* clock) {
    NO_CONTRACTION
    const float gi = g[i];
    const float mi = MUL_RN(beta1, m[i]) + MUL_RN(1.0f - beta1, gi);
    const float vi = MUL_RN(beta2, v[i]) + MUL_RN(MUL_RN(1.0f - beta2, gi), gi);
    m[i] = mi;
    v[i] = vi;
    w[i] -= clock[1] * mi / (sqrtf(vi) + clock[2]);
}

// Backend.adamUpdate (Backend.adamUpdateAll) of up to four parameter tensors in one launch, unless the gate is closed:
// slot s holds ns parameters ws (from woffs) with gradients gs (from goffs) and moments ms, vs (a slot with ns = 0 is
// absent); work-item i updates element i of the slots laid end to end.
KERNEL void adam_update(int n0, GLOBAL float* w0, int woff0, GLOBAL const float* g0, int goff0, GLOBAL float* m0, GLOBAL float* v0,
                        int n1, GLOBAL float* w1, int woff1, GLOBAL const float* g1, int goff1, GLOBAL float* m1, GLOBAL float* v1,
                        int n2, GLOBAL float* w2, int woff2, GLOBAL const float* g2, int goff2, GLOBAL float* m2, GLOBAL float* v2,
                        int n3, GLOBAL float* w3, int woff3, GLOBAL const float* g3, int goff3, GLOBAL float* m3, GLOBAL float* v3,
                        float beta1, float beta2, GLOBAL const float* clock, GLOBAL const float* ga, int hasA, GLOBAL const float* gb,
                        int hasB) {
    int i = GLOBAL_ID_X;
    if (i >= n0 + n1 + n2 + n3 || !gate_open(ga, hasA, gb, hasB)) {
        return;
    }
    if (i < n0) {
        adam_element(w0 + woff0, g0 + goff0, m0, v0, i, beta1, beta2, clock);
    } else if ((i -= n0) < n1) {
        adam_element(w1 + woff1, g1 + goff1, m1, v1, i, beta1, beta2, clock);
    } else if ((i -= n1) < n2) {
        adam_element(w2 + woff2, g2 + goff2, m2, v2, i, beta1, beta2, clock);
    } else {
        adam_element(w3 + woff3, g3 + goff3, m3, v3, i - n2, beta1, beta2, clock);
    }
}
