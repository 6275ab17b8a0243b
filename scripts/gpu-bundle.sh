#!/usr/bin/env bash
# Builds, on a machine with a JDK and Maven, what scripts/gpu-check.sh needs on a GPU machine that has no
# JDK: a jlink runtime, the project's jars with their dependencies, the test classes, the JUnit console
# launcher (all in .gpu/bundle.tar.xz, about 30 MB), MNIST and the PyTorch anchor. Everything lands in .gpu/
# (git-ignored), small enough to travel with the working tree (64 MiB for the device tool here).
#   scripts/gpu-bundle.sh [MNIST_DIR] [ANCHOR]      defaults: ../shared/data/mnist ../shared/anchors/torch_aiwae.py
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. bin/lib/jdk.sh
find_jdk
need_maven
mnist=${1:-$root/../shared/data/mnist}
anchor=${2:-$root/../shared/anchors/torch_aiwae.py}
out=$root/.gpu
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
junit=1.11.4
rm -rf "$out"
mkdir -p "$out/data" "$stage/b/lib" "$stage/b/test-classes"
echo "gpu-bundle: building the jars and test classes" >&2
mvn -B -q -ntp -DskipTests package
# Runtime dependencies of the application and of the benchmarks (JMH); Spark (provided) stays behind.
mvn -B -q -ntp -pl bench -am dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$stage/b/lib" -Dmdep.prependGroupId=true
rm -f "$stage"/b/lib/org.aiwae.*.jar
cp engine-java/target/aiwae-engine-0.1.0.jar kernels/target/aiwae-kernels-0.1.0.jar src/target/aiwae-0.1.0.jar \
   bench/target/aiwae-bench-0.1.0.jar "$stage/b/lib/"
cp -r kernels/target/test-classes "$stage/b/test-classes/kernels"
cp -r src/target/test-classes "$stage/b/test-classes/app"
mvn -B -q -ntp dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit -DoutputDirectory="$stage/b"
mv "$stage/b/junit-platform-console-standalone-$junit.jar" "$stage/b/junit-console.jar"
echo "gpu-bundle: jlink runtime from $JAVA_HOME" >&2
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.management,jdk.unsupported,jdk.incubator.vector \
  --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$stage/b/jdk" 2>/dev/null
find "$stage/b/jdk" -name '*.so' -exec strip --strip-unneeded {} + 2>/dev/null || true
tar cf - -C "$stage" b | xz -T0 -6 > "$out/bundle.tar.xz"
if [ -d "$mnist" ]; then cp -r "$mnist" "$out/data/mnist"; else echo "gpu-bundle: no MNIST at $mnist (the training check will be skipped)" >&2; fi
if [ -f "$anchor" ]; then cp "$anchor" "$out/torch_aiwae.py"; else echo "gpu-bundle: no anchor at $anchor" >&2; fi
git rev-parse --short HEAD > "$out/COMMIT" 2>/dev/null || true
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || echo "+ uncommitted changes" >> "$out/COMMIT"
du -sh "$out" "$out"/* >&2
