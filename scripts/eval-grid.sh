#!/usr/bin/env bash
# Evaluates every trained run under RUNS_DIR with ONE protocol, N evaluations at a time, into OUT_DIR, which
# mirrors RUNS_DIR (OUT_DIR/<same relative path>/eval.json, eval-test.jsonl, eval-train.jsonl, plus copies of each
# run's config.json and metrics.jsonl and every grid.json), so `bin/aiwae table OUT_DIR/<grid folder>` works, then
# writes OUT_DIR/<grid folder>/tables.md for every grid folder. Resumable: rerun the same command (with OUT_DIR's
# earlier contents in place) and each evaluation continues where it stopped (eval --resume); finished ones are kept.
#
# Usage: scripts/eval-grid.sh RUNS_DIR OUT_DIR [--backend cpu|cuda|opencl] [--parallel N] [--threads K]
#            [--data-dir DIR[:DIR...]] [--limit N] [--temperatures T] [--chains C] [--leapfrog L] [--nvlb K]
#            [--batch B] [--deadline SECONDS] [--exclude REGEX] [--split both|test|train]
# Defaults: cpu, 1 at a time, AIWAE_THREADS=1 each, --limit 200 (the first 200 test AND the first 200 training
# images of each run's dataset: the same images for every model), AIS 16 chains x 1000 temperatures, L=10,
# NVLB = -L_5000. --data-dir: the first DIR holding DIR/<dataset>/ is used for each run (default $AIWAE_DATA).
# --deadline: stop the evaluations after SECONDS (what is done stays; rerun to continue) and still write the tables.
# --exclude: run folders whose path relative to RUNS_DIR matches the (grep -E) REGEX are not evaluated.
# Environment: AIWAE_BIN (default bin/aiwae), AIWAE_HEAP.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "eval-grid: $*" >&2; exit 2; }
[ $# -ge 2 ] || die "usage: scripts/eval-grid.sh RUNS_DIR OUT_DIR [--backend B] [--parallel N] [--threads K] [--data-dir DIRS] [--limit N] [--temperatures T] [--chains C] [--leapfrog L] [--nvlb K] [--batch B] [--deadline S]"
runs=$1 out=$2; shift 2
backend=cpu parallel=1 threads=1 datadirs=${AIWAE_DATA:-} limit=200 temps=1000 chains=16 leapfrog=10 nvlb=5000 batch="" deadline="" exclude="" split=both
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case "$1" in
    --backend) backend=$2 ;; --parallel) parallel=$2 ;; --threads) threads=$2 ;; --data-dir) datadirs=$2 ;;
    --limit) limit=$2 ;; --temperatures) temps=$2 ;; --chains) chains=$2 ;; --leapfrog) leapfrog=$2 ;;
    --nvlb) nvlb=$2 ;; --batch) batch=$2 ;; --deadline) deadline=$2 ;; --exclude) exclude=$2 ;; --split) split=$2 ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done
for v in parallel threads limit temps chains leapfrog nvlb; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--$v must be a positive integer, got '${!v}'"
done
[ -d "$runs" ] || die "RUNS_DIR $runs is not a folder"
runs=$(cd "$runs" && pwd)
mkdir -p "$out" || die "cannot create OUT_DIR $out"
out=$(cd "$out" && pwd)
bin=${AIWAE_BIN:-$root/bin/aiwae}
mapfile -t cells < <(cd "$runs" && find . -name config.json -not -path '*/checkpoints/*' -printf '%h\n' | sed 's#^\./##' | sort \
                     | { if [ -n "$exclude" ]; then grep -Ev -- "$exclude" || true; else cat; fi; })
[ ${#cells[@]} -gt 0 ] || die "no run folders (config.json) under $runs"
(cd "$runs" && find . -name grid.json -not -path '*/checkpoints/*' | sed 's#^\./##' | { if [ -n "$exclude" ]; then grep -Ev -- "$exclude" || true; else cat; fi; }) | while read -r g; do
  mkdir -p "$out/$(dirname "$g")"; cp "$runs/$g" "$out/$g"
done
jobs=$(mktemp)
trap 'rm -f "$jobs"' EXIT
for c in "${cells[@]}"; do
  [ -f "$runs/$c/model.safetensors" ] || { echo "eval-grid: skipping $c (no model.safetensors: not trained yet)" >&2; continue; }
  ds=$(sed -n 's/.*"dataset":"\([^"]*\)".*/\1/p' "$runs/$c/config.json")   # no jq needed
  dir=""
  IFS=: read -ra dirs <<<"$datadirs"
  for d in "${dirs[@]}"; do
    if [ -d "$d/$ds" ]; then dir=$(cd "$d" && pwd); break; fi
  done
  if [ -z "$dir" ] && [ "$ds" = mnist ]; then   # a folder holding MNIST's IDX files itself
    for d in "${dirs[@]}"; do compgen -G "$d/train-images-idx3-ubyte*" >/dev/null && { dir=$(cd "$d" && pwd); break; }; done
  fi
  [ "$ds" = embedded ] && dir=${dir:-$runs}   # inside the jar; any folder will do
  [ -n "$dir" ] || die "no folder $ds/ in --data-dir $datadirs (needed by $c)"
  mkdir -p "$out/$c"
  cp "$runs/$c/config.json" "$out/$c/"
  [ -f "$runs/$c/metrics.jsonl" ] && cp "$runs/$c/metrics.jsonl" "$out/$c/"
  printf '%s\t%s\n' "$c" "$dir" >>"$jobs"
done
export bin runs out backend limit temps chains leapfrog nvlb batch split AIWAE_THREADS=$threads
one() { # CELL DATA_DIR
  local c=$1 d=$2 t0=$SECONDS rc=0
  [ -f "$out/$c/eval.json" ] && { echo "eval-grid: $c already evaluated"; return 0; }
  local extra=()
  [ -n "$batch" ] && extra=(--batch "$batch")
  "$bin" eval --checkpoint "$runs/$c" --out "$out/$c" --resume --backend "$backend" --data-dir "$d" --split "$split" \
    --limit "$limit" --nll-chains "$chains" --nll-temperatures "$temps" --nll-leapfrog "$leapfrog" --nvlb-samples "$nvlb" \
    "${extra[@]}" >>"$out/$c/eval.log" 2>&1 || rc=$?
  printf '%s\t%s\t%d\t%d\n' "$c" "$backend" $((SECONDS - t0)) "$rc" >>"$out/eval-times.tsv"
  echo "eval-grid: $c exit $rc after $((SECONDS - t0)) s"
}
export -f one
t0=$SECONDS
if [ -n "$deadline" ]; then
  timeout --signal=TERM --kill-after=20 "$deadline" xargs -a "$jobs" -P "$parallel" -L 1 -d '\n' bash -c 'IFS=$'"'\t'"' read -r c d <<<"$1"; one "$c" "$d"' _ \
    || echo "eval-grid: stopped at the --deadline ($deadline s) or an evaluation failed; rerun to continue"
else
  xargs -a "$jobs" -P "$parallel" -L 1 -d '\n' bash -c 'IFS=$'"'\t'"' read -r c d <<<"$1"; one "$c" "$d"' _ \
    || echo "eval-grid: an evaluation failed (see its eval.log); rerun to continue"
fi
echo "eval-grid: $(grep -c . "$jobs") runs, $((SECONDS - t0)) s wall, backend $backend, $parallel at a time"
(cd "$out" && find . -name grid.json) | while read -r g; do
  gd=$out/$(dirname "$g")
  "$bin" table "$gd" >"$gd/tables.md" 2>"$gd/tables.err" && rm -f "$gd/tables.err" && echo "eval-grid: $gd/tables.md"
done
