// The CUDA C++ spellings of the macros that aiwae_body.h is written in; aiwae.cu includes this header
// and then the body. dialect_opencl.h is the OpenCL twin of this file.
#define KERNEL extern "C" __global__         // unmangled, so the host finds it by its name
#define FUNC __device__ __forceinline__
#define GLOBAL
#define RESTRICT __restrict__
#define LOCAL __shared__
#define LOCAL_BARRIER() __syncthreads()
#define UNROLL _Pragma("unroll")

#define GLOBAL_ID_X ((int) (blockIdx.x * blockDim.x + threadIdx.x))
#define LOCAL_ID_X ((int) threadIdx.x)
#define LOCAL_ID_Y ((int) threadIdx.y)
#define GROUP_ID_X ((int) blockIdx.x)
#define GROUP_ID_Y ((int) blockIdx.y)

typedef unsigned int uint;
typedef long long int64;                     // `long` is 32 bits on some hosts; the kernel ABI says 64
typedef unsigned long long uint64;
#define MAKE_UINT4(a, b, c, d) make_uint4((a), (b), (c), (d))
#define MUL_HI(a, b) __umulhi((a), (b))

// Float products never contracted into an fma (nvcc contracts by default; its __fmul_rn never is); see dialect_opencl.h.
#define NO_CONTRACTION
#define MUL_RN(a, b) __fmul_rn((a), (b))
