#!/usr/bin/env bash
# Compiles every .cu in $1 to PTX in $2 with nvcc (compute_90) and assembles it with ptxas for sm_90,
# so a CUDA kernel that does not compile fails the build. Without nvcc: a note, and no PTX in the jar
# (the CUDA backend then says so when asked for).
set -euo pipefail
src=$1 out=$2
nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
if [ -z "$nvcc" ]; then
  echo "build-ptx: nvcc not found; the jar will have no CUDA kernels (the OpenCL and CPU backends are unaffected)"
  exit 0
fi
ptxas=$(dirname "$nvcc")/ptxas
[ -x "$ptxas" ] || ptxas=$(command -v ptxas || true)
mkdir -p "$out"
for cu in "$src"/*.cu; do
  ptx="$out/$(basename "${cu%.cu}").ptx"
  if [ ! -f "$ptx" ] || [ "$cu" -nt "$ptx" ]; then
    "$nvcc" -ptx -arch=compute_90 -O3 -o "$ptx.tmp" "$cu"
    if [ -n "$ptxas" ]; then
      "$ptxas" -arch=sm_90 -o /dev/null "$ptx.tmp"
    fi
    mv "$ptx.tmp" "$ptx"
    echo "build-ptx: $(basename "$cu") -> PTX (compute_90), assembled by ptxas for sm_90"
  fi
done
