// The OpenCL C spellings of the macros that aiwae_body.h is written in. OpenClDevice builds the program
// from this header followed by the body (KernelSource.opencl()); dialect_cuda.h is the CUDA twin of
// this file, and the two headers are the only dialect-specific kernel code.
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define KERNEL __kernel                      // a kernel, launched from the host by its name
#define FUNC inline                          // a helper called from kernels
#define GLOBAL __global                      // device memory behind a kernel argument
#define RESTRICT                             // (CUDA: __restrict__)
#define LOCAL __local                        // memory shared by one work-group / thread block
#define LOCAL_BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define UNROLL

#define GLOBAL_ID_X ((int) get_global_id(0))
#define LOCAL_ID_X ((int) get_local_id(0))
#define LOCAL_ID_Y ((int) get_local_id(1))
#define GROUP_ID_X ((int) get_group_id(0))
#define GROUP_ID_Y ((int) get_group_id(1))

typedef long int64;                          // 64 bits in OpenCL C
typedef ulong uint64;
#define MAKE_UINT4(a, b, c, d) ((uint4) ((a), (b), (c), (d)))
#define MUL_HI(a, b) mul_hi((a), (b))

// Float products that the compiler must not contract into an fma with a neighbouring sum, where a result must be
// the host's bits (the host's Java rounds each operation): NO_CONTRACTION at the start of the block turns OpenCL's
// contraction off there (OpenCL C allows it by default), and MUL_RN is then the plain product.
#define NO_CONTRACTION _Pragma("OPENCL FP_CONTRACT OFF")
#define MUL_RN(a, b) ((a) * (b))

// float maths in the C99/CUDA spellings (OpenCL's overloads take and give float)
#define expf exp
#define logf log
#define sqrtf sqrt
#define log1pf log1p
#define tanhf tanh
#define fabsf fabs
#define fmaxf fmax
#define fminf fmin
#define fmaf fma
