#!/usr/bin/env bash
# The host's cost of the CUDA path, measured on a machine without a GPU: `aiwae bench --backend cuda` against a
# no-op CUDA driver, a libcuda.so.1 in NULL_CUDA_DIR whose every call succeeds at once and does nothing (kernels
# do not run, copies copy nothing, reads leave the host buffer as it was).
#   scripts/host-cost.sh NULL_CUDA_DIR [SECONDS]         SECONDS timed per configuration, default 10
# For AIWAE K=5 T=5 L=5 batch 128 and IWAE K=50 and K=5 batch 20, each after a 3 s warm-up (and again with
# --graph off where bench has that option), it prints the device work per step (ops = launches + device copies +
# fills; host reads and writes) and the host time per step: the CPU time of the thread that issues every launch,
# and the wall time. What it measures: JNI marshalling, launch-argument packing, the Java work around each launch,
# pool traffic. What it does not: the GPU's own launch latency and compute, or waits for it; examples/s here (batch /
# wall time per step) is the ceiling the host allows, not a GPU figure. The numbers the host computes from
# device results are meaningless (the model trains on garbage), and the driver must never be used for a check of
# numbers. scripts/README.md "Host cost of the CUDA path" says more; docs/performance.md "Host cost" has the figures.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 1 ] || [ ! -f "$1/libcuda.so.1" ]; then
  echo "host-cost: usage: scripts/host-cost.sh NULL_CUDA_DIR [SECONDS]; NULL_CUDA_DIR must hold the no-op libcuda.so.1${1:+ ($1 does not)}" >&2
  exit 2
fi
seconds=${2:-10}
case "$seconds" in ''|*[!0-9]*) echo "host-cost: SECONDS must be a whole number of seconds, got '$seconds'" >&2; exit 2 ;; esac
export LD_LIBRARY_PATH=$(cd "$1" && pwd)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
aiwae=$root/bin/aiwae
device=$("$aiwae" devices | awk '$1 == "cuda" && $2 == "yes" { $1 = $2 = ""; sub(/^ +/, ""); print }')
[ -n "$device" ] || { echo "host-cost: CUDA does not open with the driver in $1 ('bin/aiwae devices' says why)" >&2; exit 2; }
modes=("")
"$aiwae" bench --help | grep -q -- '--graph' && modes=("" "--graph off")
echo "host cost of the CUDA path: driver $1/libcuda.so.1 (device '$device'), $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-20s %-12s %8s %9s %7s %6s %6s %7s %14s %10s %10s\n' configuration mode ops launches copies fills reads writes "host CPU ms" "wall ms" "ex/s"
for config in "AIWAE K5T5L5 b128:--method aiwae --samples 5 --temperatures 5 --leapfrog 5 --batch-size 128" \
              "IWAE K50 b20:--method iwae --samples 50 --batch-size 20" "IWAE K5 b20:--method iwae --samples 5 --batch-size 20"; do
  name=${config%%:*} flags=${config#*:}
  for mode in "${modes[@]}"; do
    # shellcheck disable=SC2086 # the flags are words
    out=$("$aiwae" bench --backend cuda $flags $mode --warmup 3 --seconds "$seconds" 2>/dev/null) \
      || { echo "host-cost: bench $name ${mode:-} failed: $("$aiwae" bench --backend cuda $flags $mode --warmup 0 --seconds 0 2>&1 >/dev/null | tail -n1)" >&2; exit 1; }
    read -r ops launches copies fills reads writes < <(sed -n 's/^device work per step: \([0-9.]*\) ops (\([0-9.]*\) launches, \([0-9.]*\) copies, \([0-9.]*\) fills), \([0-9.]*\) host reads, \([0-9.]*\) host writes\(, [0-9.]* replays\)\{0,1\}$/\1 \2 \3 \4 \5 \6/p' <<< "$out")
    read -r cpu wall < <(sed -n 's/^host time per step: \([0-9.]*\) ms on the calling thread.s CPU, \([0-9.]*\) ms wall$/\1 \2/p' <<< "$out")
    rate=$(sed -n 's/^\([0-9.]*\) examples\/s.*/\1/p' <<< "$out")
    printf '%-20s %-12s %8s %9s %7s %6s %6s %7s %14s %10s %10s\n' "$name" "${mode:-$([ ${#modes[@]} = 1 ] && echo eager || echo default)}" "$ops" "$launches" "$copies" "$fills" "$reads" "$writes" "$cpu" "$wall" "$rate"
  done
done
