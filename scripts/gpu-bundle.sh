#!/usr/bin/env bash
# Builds, on a machine with a JDK and Maven, what scripts/gpu-check.sh needs on a GPU machine that has no JDK:
# a jlink runtime, the project's jars with their dependencies, the test classes, JUnit with its console launcher
# (all in .gpu/bundle.tar.xz), MNIST and the PyTorch comparison (bench/torch/torch_aiwae.py). Everything lands in
# .gpu/ (git-ignored, about 45 MB, under 64 MiB).
#   scripts/gpu-bundle.sh [MNIST_DIR]     default: $AIWAE_DATA/mnist, else ~/.cache/aiwae/data/mnist
# MNIST_DIR holds the four IDX files (raw or .gz; `bin/aiwae data fetch mnist` downloads them); without it the
# check's training and evaluation steps are skipped. Maven runs offline (-o) from the local repository: any
# earlier ordinary build (bin/test, or bin/aiwae's first run) has resolved every artifact it needs. The CUDA kernels
# must be in the jar (nvcc on PATH at build time): without aiwae.fatbin the bundle is refused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. bin/lib/jdk.sh
find_jdk
need_maven
mnist=${1:-${AIWAE_DATA:-$HOME/.cache/aiwae/data}/mnist}
out=$root/.gpu
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/b/test-classes"
echo "gpu-bundle: building the jars and test classes (offline)" >&2
log=$stage/mvn.log
if ! mvn -B -q -ntp -o -DskipTests -Pgpu-bundle -Dgpu.bundle="$stage/b" package >"$log" 2>&1; then
  cat "$log" >&2
  echo "gpu-bundle: the offline build failed (output above); run bin/test once with network access to fill ~/.m2" >&2
  exit 1
fi
kjar=kernels/target/aiwae-kernels-0.1.0.jar
if ! "$JAVA_HOME/bin/jar" tf "$kjar" | grep -qx 'org/aiwae/kernels/cuda/aiwae.fatbin'; then
  echo "gpu-bundle: $kjar has no org/aiwae/kernels/cuda/aiwae.fatbin (nvcc was not on PATH when the kernels were built); install the CUDA toolkit and rerun" >&2
  exit 1
fi
# every module's jar (the root pom's <module> list, so a new module travels too)
for m in $(sed -n 's#.*<module>\(.*\)</module>.*#\1#p' pom.xml); do
  cp "$m"/target/aiwae*-0.1.0.jar "$stage/b/lib/"
done
cp -r kernels/target/test-classes "$stage/b/test-classes/kernels"
cp -r src/target/test-classes "$stage/b/test-classes/app"
cp -r bench/target/test-classes "$stage/b/test-classes/bench"
echo "gpu-bundle: jlink runtime from $JAVA_HOME" >&2
if ! "$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.management,jdk.unsupported,jdk.zipfs,jdk.incubator.vector \
     --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$stage/b/jdk" >"$log" 2>&1; then
  cat "$log" >&2
  echo "gpu-bundle: jlink failed (output above)" >&2
  exit 1
fi
find "$stage/b/jdk" -name '*.so' -exec strip --strip-unneeded {} + 2>/dev/null || true
rm -rf "$out"
mkdir -p "$out/data"
tar cf - -C "$stage" b | xz -T0 -6 > "$out/bundle.tar.xz"
if [ -d "$mnist" ]; then cp -r "$mnist" "$out/data/mnist"; else echo "gpu-bundle: no MNIST at $mnist (the check's training and evaluation steps will be skipped)" >&2; fi
cp bench/torch/torch_aiwae.py "$out/torch_aiwae.py"
git rev-parse --short HEAD > "$out/COMMIT" 2>/dev/null || true
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || echo "+ uncommitted changes" >> "$out/COMMIT"
du -sh "$out"/* >&2
du -sh "$out" >&2
size=$(du -sm "$out" | cut -f1)
if [ "$size" -ge 64 ]; then
  echo "gpu-bundle: .gpu/ is $size MiB, over the 64 MiB that travel with a working tree to a GPU machine" >&2
  exit 1
fi
