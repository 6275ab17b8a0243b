#!/usr/bin/env bash
# On a bigger machine (e.g. the 16-core GPU host): finish the trainings of a carried reduced-reproduction folder
# (resume is bit for bit on the CPU backend, so a run finished there equals one finished where it started) while
# the runs that are already trained are evaluated, then evaluate the rest; everything goes to OUT_DIR (which is
# what comes back). Needs bash, coreutils, sed and aiwae; no jq.
#
# Usage: scripts/device-repro.sh CARRY OUT_DIR [--deadline SECONDS] [--early-parallel N]
#                                [eval-grid options: --backend B --parallel N --threads K --data-dir D --limit N ...]
#   CARRY/runs/<grid folder>/CONFIG/seed-S: the run folders (finished: config.json, model.safetensors, metrics.jsonl;
#     unfinished: also LATEST and the last checkpoints/epoch-NNNN; not started: absent);
#   CARRY/train-todo.txt: one cell a line, `RUN_REL_PATH DATASET THREADS aiwae-train-arguments...` with @RUN@ for
#     the run folder and @DATA@ for the data folder (scripts/train-todo.sh writes the arguments from a grid file);
#     all lines are started at once, each with AIWAE_THREADS=THREADS; cells whose metrics.jsonl already reaches
#     the configured epochs are skipped;
#   CARRY/data/<dataset>/ (optional): datasets not found in --data-dir.
#   While the trainings run, the runs that are already trained are evaluated, --early-parallel (default 2) at a
#   time; then every run is evaluated (eval-grid skips finished evaluations), --parallel at a time.
#   A second call with the first call's OUT_DIR in place continues it (trainings and evaluations resume).
#   --deadline: seconds for the whole script; evaluations stop then (what is done stays), trainings are not cut.
# Environment: AIWAE_BIN (default: this repository's bin/aiwae).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "device-repro: $*" >&2; exit 2; }
[ $# -ge 2 ] || die "usage: scripts/device-repro.sh CARRY OUT_DIR [--deadline S] [--early-parallel N] [eval-grid options]"
[ -d "$1" ] || die "CARRY $1 is not a folder"
carry=$(cd "$1" && pwd); out=$2; shift 2
deadline="" early=2 datadirs=${AIWAE_DATA:-} evalopts=()
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case "$1" in
    --deadline) deadline=$2 ;; --early-parallel) early=$2 ;; --data-dir) datadirs=$2 ;;
    *) evalopts+=("$1" "$2") ;;
  esac
  shift 2
done
datadirs="${datadirs:+$datadirs:}$carry/data"
export AIWAE_BIN=${AIWAE_BIN:-$root/bin/aiwae}
start=$SECONDS
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -d "$out/runs" ] || cp -r "$carry/runs" "$out/runs"
field() { sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$1" | head -n 1; }   # FILE KEY: a flat JSON field
finished() { # RUN: its metrics.jsonl reaches the epochs of its config.json
  [ -f "$1/config.json" ] && [ -s "$1/metrics.jsonl" ] && [ -f "$1/model.safetensors" ] || return 1
  local have want
  have=$(tail -n 1 "$1/metrics.jsonl" | sed -n 's/^{"epoch":\([0-9]*\).*/\1/p'); want=$(field "$1/config.json" epochs)
  [ -n "$have" ] && [ -n "$want" ] && [ "$have" -ge "$want" ]
}
datadir() { # DATASET -> the first folder holding DATASET/ (or MNIST's IDX files themselves)
  local d
  IFS=: read -ra dirs <<<"$datadirs"
  for d in "${dirs[@]}"; do [ -d "$d/$1" ] && { (cd "$d" && pwd); return; }; done
  for d in "${dirs[@]}"; do [ "$1" = mnist ] && compgen -G "$d/train-images-idx3-ubyte*" >/dev/null && { (cd "$d" && pwd); return; }; done
  [ "$1" = embedded ] && { echo "$carry"; return; }   # inside the jar
  die "no folder $1/ in $datadirs"
}
remaining() { [ -z "$deadline" ] && return; echo $((deadline - (SECONDS - start))); }
# a device backend that cannot evaluate (no driver, a kernel failure) falls back to the CPU, saying so: one image,
# two temperatures, into a scratch folder, decides
for ((i = 0; i < ${#evalopts[@]}; i += 2)); do
  if [ "${evalopts[i]}" = --backend ] && [ "${evalopts[i+1]}" != cpu ]; then
    first=$(cd "$out/runs" && find . -name model.safetensors -not -path '*/checkpoints/*' -printf '%h\n' | head -n 1)
    ds=$(field "$out/runs/$first/config.json" dataset)
    if ! "$AIWAE_BIN" eval --checkpoint "$out/runs/$first" --out "$out/smoke-${evalopts[i+1]}" --force --backend "${evalopts[i+1]}" \
         --data-dir "$(datadir "$ds")" --limit 1 --nll-temperatures 2 --nvlb-samples 10 >"$out/smoke-${evalopts[i+1]}.log" 2>&1; then
      echo "device-repro: --backend ${evalopts[i+1]} failed a one-image evaluation ($out/smoke-${evalopts[i+1]}.log); evaluating on the cpu backend instead"
      evalopts[i+1]=cpu
    else
      echo "device-repro: --backend ${evalopts[i+1]} passed a one-image evaluation ($((SECONDS - start)) s)"
    fi
  fi
done
# 1. trainings of the unfinished cells, all at once, in the background
pids=()
if [ -f "$carry/train-todo.txt" ]; then
  while read -r rel ds threads args; do
    case "$rel" in ''|'#'*) continue ;; esac
    run=$out/runs/$rel
    finished "$run" && continue
    mkdir -p "$(dirname "$run")"
    args=${args//@RUN@/$run}; args=${args//@DATA@/$(datadir "$ds")}
    echo "device-repro: training $rel on $threads threads"
    # shellcheck disable=SC2086  # the grid's command line has no spaces inside its arguments
    ( t0=$SECONDS; rc=0; AIWAE_THREADS=$threads "$AIWAE_BIN" $args >>"$run.log" 2>&1 || rc=$?
      printf '%s\t%d\t%d\t%d\n' "$rel" "$threads" $((SECONDS - t0)) "$rc" >>"$out/train-times.tsv"
      echo "device-repro: trained $rel (exit $rc) in $((SECONDS - t0)) s" ) &
    pids+=($!)
  done <"$carry/train-todo.txt"
fi
# 2. meanwhile, the runs already trained (a copy of their folders, so the layout is the grid's)
if [ ${#pids[@]} -gt 0 ]; then
  early_runs=$out/early-runs
  rm -rf "$early_runs"; mkdir -p "$early_runs"
  (cd "$out/runs" && find . -name config.json -not -path '*/checkpoints/*' -printf '%h\n') | while read -r r; do
    if finished "$out/runs/$r"; then   # (an `A && B` as the loop's last command would fail the pipeline under set -e)
      mkdir -p "$early_runs/$r"; cp "$out/runs/$r"/{config.json,model.safetensors,metrics.jsonl} "$early_runs/$r/"
    fi
  done
  (cd "$out/runs" && find . -name grid.json) | while read -r g; do
    if [ -d "$early_runs/$(dirname "$g")" ]; then cp "$out/runs/$g" "$early_runs/$g"; fi
  done
  opts=("${evalopts[@]}" --parallel "$early")
  [ -n "$deadline" ] && opts+=(--deadline "$(remaining)")
  if compgen -G "$early_runs/*" >/dev/null; then
    "$root/scripts/eval-grid.sh" "$early_runs" "$out/eval" --data-dir "$datadirs" "${opts[@]}" 2>&1 | sed 's/^/[early] /' &
    pids+=($!)
  fi
  for p in "${pids[@]}"; do wait "$p" || true; done
  echo "device-repro: trainings (and the early evaluations) done after $((SECONDS - start)) s"
fi
# 3. every run (finished evaluations are skipped)
left=()
if [ -n "$deadline" ]; then
  [ "$(remaining)" -lt 30 ] && { echo "device-repro: the --deadline is used up; rerun to evaluate the rest"; exit 0; }
  left=(--deadline "$(remaining)")
fi
"$root/scripts/eval-grid.sh" "$out/runs" "$out/eval" --data-dir "$datadirs" "${evalopts[@]}" "${left[@]}"
echo "device-repro: $((SECONDS - start)) s in all"
