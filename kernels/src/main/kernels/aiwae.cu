// The CUDA build of aiwae's kernels: the CUDA dialect header, then the one kernel body that the OpenCL
// program is built from too. kernels/build-cuda.sh compiles this file with nvcc (PTX for compute_75 and
// machine code for sm_90, in one fatbin).
#include "dialect_cuda.h"
#include "aiwae_body.h"
