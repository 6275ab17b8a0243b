#!/usr/bin/env bash
# Builds the CUDA kernels into the jar: nvcc compiles $1/aiwae.cu (dialect_cuda.h + the one kernel body
# aiwae_body.h, from which the OpenCL program is built too) into $2/aiwae.fatbin, holding
#   - PTX for compute_75, the oldest virtual architecture CUDA 13 supports: the driver JIT-compiles it
#     on any Turing-or-newer GPU (it needs an R580+ driver, as PTX ISA 9.0 is CUDA 13's);
#   - sm_90 machine code (H100/H200 load it without a JIT), assembled by ptxas, so a kernel that does
#     not compile fails the build.
# The fatbin is left uncompressed so that KernelSourceTest can read the PTX image back. $2/aiwae.build
# records the SHA-256 of the body it was compiled from. Without nvcc: a note, and no CUDA kernels in the
# jar (the CUDA backend then says so when asked for; OpenCL and the CPU are unaffected).
set -euo pipefail
src=$1 out=$2
nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
if [ -z "$nvcc" ]; then
  echo "build-cuda: nvcc not found; the jar will have no CUDA kernels (the OpenCL and CPU backends are unaffected)"
  exit 0
fi
mkdir -p "$out"
fatbin=$out/aiwae.fatbin build=$out/aiwae.build
if [ -f "$fatbin" ] && [ -f "$build" ] && [ -z "$(find "$src" -newer "$fatbin" -type f)" ]; then
  exit 0
fi
"$nvcc" -fatbin -O3 -Xfatbin --compress=false \
  -gencode arch=compute_75,code=compute_75 \
  -gencode arch=compute_90,code=sm_90 \
  -o "$fatbin.tmp" "$src/aiwae.cu"
{
  echo "body.sha256=$(sha256sum "$src/aiwae_body.h" | cut -d' ' -f1)"
  echo "images=compute_75 PTX, sm_90 ELF"
  echo "nvcc=$("$nvcc" --version | tail -n1)"
} > "$build.tmp"
mv "$fatbin.tmp" "$fatbin"
mv "$build.tmp" "$build"
echo "build-cuda: aiwae.cu -> aiwae.fatbin (PTX compute_75 + sm_90 machine code)"
