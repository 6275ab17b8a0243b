#!/usr/bin/env bash
# The GPU check, in one command, on a machine with an NVIDIA GPU and no JDK (run from the repository root after
# scripts/gpu-bundle.sh made .gpu/ on a machine with a JDK and .gpu/ travelled here):
#   scripts/gpu-check.sh [REPORT_DIR]        default: $OUT, else ./gpu-report
# Steps, in order, each with its own time limit, all within GPU_CHECK_BUDGET seconds (default 460: with unpacking
# and the report the check ends within 8 minutes; a step that would pass the budget is cut at it, and the steps
# after it are reported as skipped):
#   inventory, devices         the GPU, driver, CPUs, Java and PyTorch; `aiwae devices`
#   tests-cuda                 the CUDA test cases (AIWAE_TEST_BACKENDS=cuda: the CPU and OpenCL cases are CI's)
#                              with AIWAE_REQUIRE_CUDA=1 (a CUDA that does not open fails):
#                              the kernels module, the *ParityTest classes, SamplerTest, AisGraphTest (replayed AIS
#                              temperatures == direct), every JMH benchmark's audited setup + invocation
#                              (BenchmarksOnDeviceTest), BenchCliTest
#   tests-ptx-jit              DeviceKernelsTest, SgemmTest and the parity tests again from the JIT-compiled compute_75 PTX
#                              (CUDA_FORCE_PTX_JIT=1), the path of GPUs older than the fatbin's sm_90 code
#   bench-aiwae, bench-iwae    `aiwae bench --backend cuda`: AIWAE K=5 T=5 L=5 batch 128, IWAE K=50 batch 20
#   bench-*-eager              the same with `--graph off` (eager launches, where the build has graph replay)
#   torch-anchor               bench/torch/torch_aiwae.py 16 cuda 3, in the same call as the bench rows
#   train-cuda, eval-cuda      one full-MNIST AIWAE epoch on CUDA; the AIS evaluation of 100 test images of it
#   jmh-cuda                   the JMH device rows (short iterations; an audit failure shows as <failure>)
# OpenCL is hidden from every step (OCL_ICD_VENDORS pointing nowhere) so that they test CUDA alone.
# REPORT_DIR/report.md: a summary (each step's exit status, time and limit), the figures, each step's output;
# REPORT_DIR/logs.tar.gz: the whole logs and any JVM crash file. Exit status 0 when every step passed.
# GPU_CHECK_ONLY="tests-cuda bench-aiwae ..." runs only the steps named (also the optional ones: tests-suite,
# the application's @OnEveryBackend training, example and estimator tests; tests-opencl; bench-cpu). GPU_CHECK_SCALE
# multiplies every limit and the budget.
# Rehearsal without a GPU: GPU_CHECK_NULL_CUDA=DIR, a folder holding a no-op libcuda.so.1 (every call succeeds and
# does nothing), runs the whole check against it; the report then says on every figure that the numbers are
# meaningless (reads return nothing, so tests that compare numbers fail), and nvidia-smi and torch may be absent.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rep=${1:-${OUT:-$root/gpu-report}}
scale=${GPU_CHECK_SCALE:-1}
budget=$(( ${GPU_CHECK_BUDGET:-460} * scale ))
only=" ${GPU_CHECK_ONLY:-} "
null=${GPU_CHECK_NULL_CUDA:-}
t_start=$(date +%s)
[ -f .gpu/bundle.tar.xz ] || { echo "gpu-check: .gpu/bundle.tar.xz is missing; run scripts/gpu-bundle.sh on a machine with a JDK first" >&2; exit 2; }
if [ -n "$null" ]; then
  [ -f "$null/libcuda.so.1" ] || { echo "gpu-check: GPU_CHECK_NULL_CUDA=$null holds no libcuda.so.1" >&2; exit 2; }
  export LD_LIBRARY_PATH=$(cd "$null" && pwd)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
mkdir -p "$rep"
work=${TMPDIR:-/tmp}/aiwae-gpu
rm -rf "$work"; mkdir -p "$work/logs"
tar xJf .gpu/bundle.tar.xz -C "$work" || { echo "gpu-check: .gpu/bundle.tar.xz does not unpack" >&2; exit 2; }
B=$work/b
export JAVA_HOME=$B/jdk AIWAE_JARS=$B/lib AIWAE_HEAP=${AIWAE_HEAP:-24g} OCL_ICD_VENDORS=/nonexistent
cp_all=$(ls "$B"/lib/*.jar | tr '\n' ':')
java=("$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
R=$rep/report.md body=$work/body.md summary=$work/summary.md figures=$work/figures.md
: > "$body"; : > "$summary"; : > "$figures"
MEANINGLESS="**rehearsed against the no-op driver: numbers meaningless**"
say() { printf '%s\n' "$*" >> "$body"; }
failed=0
# step NAME SECONDS COMMAND...: runs COMMAND with min(SECONDS x scale, what is left of the budget) as its limit,
# logs to NAME.log, puts its last lines, exit status and wall time in the report
step() {
  local name=$1 limit=$(( $2 * scale )) t0 rc left ms; shift 2
  [ "$only" = "  " ] || [[ "$only" == *" $name "* ]] || return 0
  left=$(( budget - ($(date +%s) - t_start) ))
  say ""; say "## $name"
  if [ "$left" -lt 5 ]; then
    say "skipped: the check's ${budget} s budget is spent"
    echo "| $name | skipped (budget spent) | | $limit |" >> "$summary"
    return 0
  fi
  [ "$limit" -le "$left" ] || limit=$left
  [ -z "$null" ] || say "$MEANINGLESS"
  say '```'; say "\$ $*"
  t0=$(date +%s%N)
  timeout -k 5 "$limit" "$@" > "$work/logs/$name.log" 2>&1; rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  # a JMH row whose audit failed (or any error) prints <failure> and no score
  [ "$rc" != 0 ] || ! grep -q '<failure>' "$work/logs/$name.log" || rc=1
  grep -a -v -e '^WARNING: Using incubator' -e '^\[[0-9]*\.[0-9]*s\]' "$work/logs/$name.log" | tail -n "${TAIL:-25}" >> "$body"
  say "(exit $rc$([ "$rc" = 124 ] && echo ": stopped at its ${limit} s limit"), $ms ms)"
  say '```'
  echo "| $name | $rc$([ "$rc" = 124 ] && echo ' (time limit)') | $(( ms / 1000 )) | $limit |" >> "$summary"
  [ "$rc" = 0 ] || failed=1
}
# note NAME TEXT: a step that cannot run in this build or on this machine, reported and not counted as a failure
note() {
  [ "$only" = "  " ] || [[ "$only" == *" $1 "* ]] || return 0
  say ""; say "## $1"; say "$2"
  echo "| $1 | n/a: $2 | | |" >> "$summary"
}
optional() { [[ "$only" == *" $1 "* ]]; }

inventory() {
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
  else
    echo "nvidia-smi: not found (no NVIDIA driver tools on this machine)"
  fi
  command -v nvcc >/dev/null && nvcc --version | tail -n1
  echo "cpus: $(nproc) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  "$JAVA_HOME/bin/java" -version 2>&1 | tail -n1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>/dev/null \
    || echo "torch: not importable with $(command -v python3 || echo 'no python3')"
  [ -z "$null" ] || echo "CUDA driver: the no-op libcuda.so.1 in $null (LD_LIBRARY_PATH)"
  return 0
}
export -f inventory
export null JAVA_HOME

TAIL=12 step inventory 10 bash -c inventory
TAIL=6 step devices 15 bin/aiwae devices

# The test classes run in one JVM per step (a crash names its step and leaves its hs_err file in the logs).
junit=("${java[@]}" -Xmx16g -XX:ErrorFile="$work/logs/hs_err_%p.log" -cp "$B/test-lib/*" org.junit.platform.console.ConsoleLauncher
       execute --disable-banner --details=tree --details-theme=ascii
       --class-path "$B/test-classes/kernels:$B/test-classes/app:$B/test-classes/bench:$cp_all")
parity=()
for c in "$B"/test-classes/app/org/aiwae/parity/*ParityTest.class; do
  [ -f "$c" ] && parity+=(--select-class "org.aiwae.parity.$(basename "$c" .class)")
done
cd "$root/kernels"   # KernelSourceTest reads the kernel sources relative to the module, as under Maven
TAIL=30 step tests-cuda 90 env AIWAE_REQUIRE_CUDA=1 AIWAE_TEST_BACKENDS=cuda "${junit[@]}" --select-package org.aiwae.kernels "${parity[@]}" \
  --select-class org.aiwae.sampler.SamplerTest --select-class org.aiwae.eval.AisGraphTest --select-class org.aiwae.bench.BenchmarksOnDeviceTest \
  --select-class org.aiwae.cli.BenchCliTest
TAIL=20 step tests-ptx-jit 55 env AIWAE_REQUIRE_CUDA=1 AIWAE_TEST_BACKENDS=cuda CUDA_FORCE_PTX_JIT=1 "${junit[@]}" \
  --select-class org.aiwae.kernels.DeviceKernelsTest --select-class org.aiwae.kernels.SgemmTest "${parity[@]}"
if optional tests-suite; then
  TAIL=20 step tests-suite 300 env AIWAE_REQUIRE_CUDA=1 AIWAE_TEST_BACKENDS=cuda "${junit[@]}" --select-class org.aiwae.train.TrainingTest \
    --select-class org.aiwae.examples.FactorModelExampleTest --select-class org.aiwae.eval.EstimatorTest
fi
if optional tests-opencl; then
  TAIL=20 step tests-opencl 150 env -u OCL_ICD_VENDORS AIWAE_REQUIRE_OPENCL=1 AIWAE_TEST_BACKENDS=opencl CUDA_VISIBLE_DEVICES= "${junit[@]}" \
    --select-class org.aiwae.kernels.DeviceKernelsTest
fi
cd "$root"

aiwae=(--method aiwae --samples 5 --temperatures 5 --leapfrog 5 --batch-size 128 --warmup 2 --seconds 6)
iwae=(--method iwae --samples 50 --batch-size 20 --warmup 2 --seconds 6)
graph=0
bin/aiwae bench --help 2>/dev/null | grep -q -- '--graph' && graph=1
TAIL=4 step bench-aiwae 25 bin/aiwae bench --backend cuda "${aiwae[@]}"
if [ "$graph" = 1 ]; then TAIL=4 step bench-aiwae-eager 25 bin/aiwae bench --backend cuda --graph off "${aiwae[@]}"
else note bench-aiwae-eager "graph replay not available in this build (bench has no --graph option): bench-aiwae ran eagerly"; fi
TAIL=4 step bench-iwae 25 bin/aiwae bench --backend cuda "${iwae[@]}"
if [ "$graph" = 1 ]; then TAIL=4 step bench-iwae-eager 25 bin/aiwae bench --backend cuda --graph off "${iwae[@]}"
else note bench-iwae-eager "graph replay not available in this build (bench has no --graph option): bench-iwae ran eagerly"; fi
if optional bench-cpu; then TAIL=2 step bench-cpu 60 bin/aiwae bench --backend cpu "${aiwae[@]}"; fi
if python3 -c 'import torch' 2>/dev/null; then
  TAIL=8 step torch-anchor 45 env PYTHONUNBUFFERED=1 python3 .gpu/torch_aiwae.py 16 cuda 3
else
  note torch-anchor "PyTorch is not importable with $(command -v python3 || echo 'no python3'): no anchor in this call"
fi
if [ -d .gpu/data/mnist ]; then
  TAIL=6 step train-cuda 45 bin/aiwae train --backend cuda --dataset mnist --data-dir .gpu/data --epochs 1 --batch-size 128 --out "$work/run"
  TAIL=12 step eval-cuda 30 bin/aiwae eval --checkpoint "$work/run" --backend cuda --data-dir .gpu/data --limit 100 \
    --nll-temperatures 1000 --nvlb-samples 1000 --out "$work/eval"
  cp "$work/eval/eval.json" "$rep/" 2>/dev/null
else
  note train-cuda "no MNIST in .gpu/data/mnist (scripts/gpu-bundle.sh MNIST_DIR)"
  note eval-cuda "no MNIST, no model to evaluate"
fi
TAIL=16 step jmh-cuda 70 "${java[@]}" -Djmh.ignoreLock=true -cp "$B/lib/*" org.openjdk.jmh.Main -f 1 -wi 1 -w 1s -i 2 -r 1s \
  -p backend=cuda -rf json -rff "$rep/jmh-cuda.json" 'TrainingStepBenchmark|AisBenchmark|DecoderBenchmark|HmcBenchmark|LaunchBenchmark|GraphBenchmark'

total=$(( $(date +%s) - t_start ))
{
  echo "# aiwae GPU check, $(date -u '+%Y-%m-%d %H:%M UTC'), bundle built from commit $(tr '\n' ' ' < .gpu/COMMIT 2>/dev/null || echo '?')"
  echo
  [ -z "$null" ] || { echo "$MEANINGLESS: every CUDA call went to the no-op libcuda.so.1 in $null (nothing ran on a GPU; device reads return nothing, so the tests that compare numbers fail). What this run shows: the plumbing runs end to end, and the host's own cost per step."; echo; }
  echo "Whole check: $total s (budget $budget s). Summary:"
  echo
  echo "| step | exit | seconds | limit |"
  echo "| --- | --- | ---: | ---: |"
  cat "$summary"
  echo
  echo "## Figures$([ -z "$null" ] || echo " ($MEANINGLESS)")"
  echo
  echo '```'
  for f in "$work"/logs/bench-*.log; do
    [ -f "$f" ] && sed -n "s/^/$(basename "$f" .log): /p" "$f" | grep -a -e 'examples/s' -e 'device work per step' -e 'host time per step' -e 'aiwae: '
  done
  [ -f "$work/logs/torch-anchor.log" ] && sed 's/^/torch-anchor: /' "$work/logs/torch-anchor.log"
  [ -f "$work/logs/train-cuda.log" ] && grep -a -i -e 'epoch' -e 'L_' "$work/logs/train-cuda.log" | tail -n 3 | sed 's/^/train-cuda: /'
  [ -f "$work/logs/eval-cuda.log" ] && grep -a -e 'NLL' -e 'NVLB' "$work/logs/eval-cuda.log" | tail -n 4 | sed 's/^/eval-cuda: /'
  [ -f "$work/logs/jmh-cuda.log" ] && sed -n '/^Benchmark /,$p' "$work/logs/jmh-cuda.log" | sed 's/^/jmh-cuda: /'
  echo '```'
  cat "$body"
} > "$R"
tar czf "$rep/logs.tar.gz" -C "$work" logs
echo "gpu-check: $total s; report in $R" >&2
exit "$failed"
