#!/usr/bin/env bash
# The GPU check, in one command, on a machine with an NVIDIA GPU and no JDK (run from the repository root
# after scripts/gpu-bundle.sh made .gpu/ elsewhere and .gpu travelled here):
#   scripts/gpu-check.sh [REPORT_DIR]        default: $OUT, else ./gpu-report
# Runs: the device inventory; the CUDA test cases (DeviceKernelsTest, the *ParityTest classes and the application's
# @OnEveryBackend suite, with AIWAE_REQUIRE_CUDA=1, so a CUDA that does not open fails instead of skipping);
# `aiwae bench` on cuda and cpu beside the PyTorch anchor on cuda; a one-epoch MNIST AIWAE training on CUDA and
# an AIS evaluation of it; the JMH benchmarks with backend=cuda. Each step has its own time limit (GPU_CHECK_SCALE
# multiplies them) so the whole check ends within about 9.5 minutes; REPORT_DIR/report.md collects the results,
# REPORT_DIR/logs.tar.gz the whole logs (and any JVM crash file). GPU_CHECK_ONLY="tests bench-cuda ..." runs only
# the steps named.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rep=${1:-${OUT:-$root/gpu-report}}
scale=${GPU_CHECK_SCALE:-1}
mkdir -p "$rep"
only=" ${GPU_CHECK_ONLY:-} "
[ -f .gpu/bundle.tar.xz ] || { echo "gpu-check: .gpu/bundle.tar.xz is missing; run scripts/gpu-bundle.sh on a machine with a JDK first" >&2; exit 2; }
work=${TMPDIR:-/tmp}/aiwae-gpu
rm -rf "$work"; mkdir -p "$work/logs"
tar xJf .gpu/bundle.tar.xz -C "$work"
B=$work/b
export JAVA_HOME=$B/jdk AIWAE_JARS=$B/lib AIWAE_HEAP=${AIWAE_HEAP:-24g}
cp_all=$(ls "$B"/lib/*.jar | tr '\n' ':')
java=("$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
R=$rep/report.md
say() { printf '%s\n' "$*" | tee -a "$R"; }
step() { # step NAME SECONDS COMMAND...: runs with a limit, logs to NAME.log, reports rc and wall time
  local name=$1 limit=$(( $2 * scale )) t0 rc; shift 2
  [ "$only" = "  " ] || [[ "$only" == *" $name "* ]] || return 0
  say ""; say "## $name"; say '```'; say "\$ $*"
  t0=$(date +%s%N)
  timeout -k 5 "$limit" "$@" > "$work/logs/$name.log" 2>&1; rc=$?
  grep -v -e '^WARNING: Using incubator' -e '^\[[0-9]*\.[0-9]*s\]' "$work/logs/$name.log" | tail -n "${TAIL:-25}" | tee -a "$R"
  say "(exit $rc$([ $rc = 124 ] && echo ": stopped at its ${limit} s limit"), $(( ($(date +%s%N) - t0) / 1000000 )) ms)"
  say '```'
}
: > "$R"
say "# aiwae GPU check, $(date -u '+%Y-%m-%d %H:%M UTC'), bundle built from commit $(cat .gpu/COMMIT 2>/dev/null | tr '\n' ' ' || echo '?')"
TAIL=10 step inventory 30 bash -c 'nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv; nvcc --version 2>/dev/null | tail -n1; echo "cpus: $(nproc) $(grep -m1 "model name" /proc/cpuinfo)"; '"$JAVA_HOME"'/bin/java -version 2>&1 | tail -n1; python3 -c "import torch; print(\"torch\", torch.__version__, torch.version.cuda)"'
step devices 60 bin/aiwae devices
# Each test class in its own JVM (a crash names its class and leaves its hs_err file in the logs); OpenCL is
# hidden from the CUDA runs (OCL_ICD_VENDORS pointing nowhere) so that they test CUDA alone.
junit=("${java[@]}" -XX:ErrorFile="$work/logs/hs_err_%p.log" -jar "$B/junit-console.jar" execute --disable-banner --details=tree
       --class-path "$B/test-classes/kernels:$B/test-classes/app:$cp_all")
cd "$root/kernels"   # KernelSourceTest reads the kernel sources relative to the module, as under Maven
TAIL=40 step tests-kernels 150 env AIWAE_REQUIRE_CUDA=1 OCL_ICD_VENDORS=/nonexistent "${junit[@]}" --select-package org.aiwae.kernels
# Whole algorithms on the device against the CPU: every *ParityTest class of the application's tests.
parity=()
for c in "$B"/test-classes/app/org/aiwae/parity/*ParityTest.class; do
  [ -f "$c" ] && parity+=(--select-class "org.aiwae.parity.$(basename "$c" .class)")
done
# ... and the application's backend-parametrized suite (@OnEveryBackend: each method improves its bound, same seed
# and resume, the estimators against closed forms and quadrature, the factor-model example, HMC and AIS with their
# fused-vs-composed parity), whose cuda cases run here.
suite=(--select-class org.aiwae.train.TrainingTest --select-class org.aiwae.eval.EstimatorTest
       --select-class org.aiwae.examples.FactorModelExampleTest --select-class org.aiwae.sampler.SamplerTest)
TAIL=20 step tests-parity 150 env AIWAE_REQUIRE_CUDA=1 OCL_ICD_VENDORS=/nonexistent "${junit[@]}" "${parity[@]}" "${suite[@]}"
# The path of GPUs older than the fatbin's sm_90 code: the driver JIT-compiles the compute_75 PTX.
TAIL=20 step tests-ptx-jit 150 env AIWAE_REQUIRE_CUDA=1 OCL_ICD_VENDORS=/nonexistent CUDA_FORCE_PTX_JIT=1 "${junit[@]}" \
  --select-class org.aiwae.kernels.DeviceKernelsTest --select-class org.aiwae.kernels.SgemmTest "${parity[@]}"
TAIL=20 step tests-opencl 150 env AIWAE_REQUIRE_OPENCL=1 CUDA_VISIBLE_DEVICES= "${junit[@]}" --select-class org.aiwae.kernels.DeviceKernelsTest
cd "$root"
aiwae=(--method aiwae --samples 5 --temperatures 5 --leapfrog 5 --batch-size 128 --warmup 5 --seconds 15)
step bench-cuda 60 bin/aiwae bench --backend cuda "${aiwae[@]}"
step bench-cpu 60 bin/aiwae bench --backend cpu "${aiwae[@]}"
step torch-anchor-cuda 100 env PYTHONUNBUFFERED=1 python3 .gpu/torch_aiwae.py 16 cuda
if [ -d .gpu/data/mnist ]; then
  step train-cuda 150 bin/aiwae train --backend cuda --dataset mnist --data-dir .gpu/data --epochs 1 --batch-size 128 --out "$work/run"
  step eval-cuda 80 bin/aiwae eval --checkpoint "$work/run" --backend cuda --data-dir .gpu/data --limit 100 --nll-temperatures 1000 --nvlb-samples 1000 --out "$work/eval"
  cp "$work/eval/eval.json" "$rep/" 2>/dev/null
fi
step jmh-cuda 120 "${java[@]}" -cp "$B/lib/*" org.openjdk.jmh.Main -f 1 -wi 1 -w 3s -i 2 -r 4s -p backend=cuda \
  -rf json -rff "$rep/jmh-cuda.json" 'TrainingStepBenchmark|AisBenchmark|DecoderBenchmark'
say ""; say "done $(date -u '+%H:%M:%S UTC')"
tar czf "$rep/logs.tar.gz" -C "$work" logs
