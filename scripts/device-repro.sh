#!/usr/bin/env bash
# On a bigger machine (e.g. the 16-core GPU host): finish the trainings of a carried reduced-reproduction folder
# on the CPU backend (resume is bit for bit, so a run finished there equals one finished where it started), then
# evaluate every run with scripts/eval-grid.sh; everything goes to OUT_DIR (which is what comes back).
#
# Usage: scripts/device-repro.sh CARRY OUT_DIR [--train-parallel N] [--train-threads K] [--deadline SECONDS]
#                                [eval-grid options: --backend B --parallel N --threads K --data-dir D --limit N ...]
#   CARRY/runs/<grid folder>/CONFIG/seed-S: the run folders (finished: config.json, model.safetensors, metrics.jsonl;
#     unfinished: also LATEST and the last checkpoints/epoch-NNNN; not started: absent);
#   CARRY/train-todo.txt: one cell a line, `RUN_REL_PATH DATASET aiwae-train-arguments...` with @RUN@ for the run
#     folder and @DATA@ for the data folder (scripts/train-todo.sh writes it from grid files); cells whose
#     metrics.jsonl already reaches the configured epochs are skipped;
#   CARRY/data/<dataset>/ (optional): datasets not found in --data-dir.
#   A second call with the first call's OUT_DIR in place continues it (trainings and evaluations resume).
#   --deadline: seconds for the whole script; the evaluation gets what the training left (eval-grid --deadline).
# Environment: AIWAE_BIN (default: this repository's bin/aiwae).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "device-repro: $*" >&2; exit 2; }
[ $# -ge 2 ] || die "usage: scripts/device-repro.sh CARRY OUT_DIR [--train-parallel N] [--train-threads K] [--deadline S] [eval-grid options]"
[ -d "$1" ] || die "CARRY $1 is not a folder"
carry=$(cd "$1" && pwd); out=$2; shift 2
tpar=4 tthreads=4 deadline="" datadirs=${AIWAE_DATA:-} evalopts=()
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case "$1" in
    --train-parallel) tpar=$2 ;; --train-threads) tthreads=$2 ;; --deadline) deadline=$2 ;; --data-dir) datadirs=$2 ;;
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
datadir() { # DATASET -> the first folder holding DATASET/
  local d
  IFS=: read -ra dirs <<<"$datadirs"
  for d in "${dirs[@]}"; do [ -d "$d/$1" ] && { (cd "$d" && pwd); return; }; done
  # a folder holding MNIST's IDX files itself (aiwae accepts DIR or DIR/<dataset>/)
  for d in "${dirs[@]}"; do [ "$1" = mnist ] && compgen -G "$d/train-images-idx3-ubyte*" >/dev/null && { (cd "$d" && pwd); return; }; done
  [ "$1" = embedded ] && { echo "$carry"; return; }   # inside the jar
  die "no folder $1/ in $datadirs"
}
todo=$(mktemp); trap 'rm -f "$todo"' EXIT
if [ -f "$carry/train-todo.txt" ]; then
  while read -r rel ds args; do
    case "$rel" in ''|'#'*) continue ;; esac
    run=$out/runs/$rel
    if [ -f "$run/config.json" ] && [ -f "$run/metrics.jsonl" ] && [ -s "$run/metrics.jsonl" ]; then
      [ "$(tail -n 1 "$run/metrics.jsonl" | jq -r .epoch)" -ge "$(jq -r .epochs "$run/config.json")" ] && continue
    fi
    mkdir -p "$(dirname "$run")"
    args=${args//@RUN@/$run}; args=${args//@DATA@/$(datadir "$ds")}
    echo "$run $args" >>"$todo"
  done <"$carry/train-todo.txt"
fi
if [ -s "$todo" ]; then
  echo "device-repro: training $(wc -l <"$todo") unfinished cells, $tpar at a time, $tthreads threads each"
  export AIWAE_THREADS=$tthreads
  # shellcheck disable=SC2016
  xargs -a "$todo" -P "$tpar" -L 1 bash -c 'run=$1; shift; t0=$SECONDS; "$AIWAE_BIN" "$@" >>"$run.log" 2>&1; rc=$?
      echo "device-repro: trained $run exit $rc in $((SECONDS - t0)) s"; printf "%s\t%d\t%d\n" "$run" $((SECONDS - t0)) $rc >>"'"$out"'/train-times.tsv"' _ \
    || echo "device-repro: a training failed (see RUN.log)"
  echo "device-repro: training done after $((SECONDS - start)) s"
fi
# a device backend that cannot evaluate (no driver, a kernel failure) falls back to the CPU, saying so: one image,
# two temperatures, into a scratch folder, decides
for ((i = 0; i < ${#evalopts[@]}; i += 2)); do
  if [ "${evalopts[i]}" = --backend ] && [ "${evalopts[i+1]}" != cpu ]; then
    first=$(cd "$out/runs" && find . -name model.safetensors -not -path '*/checkpoints/*' -printf '%h\n' | head -n 1)
    ds=$(jq -r .dataset "$out/runs/$first/config.json")
    if ! "$AIWAE_BIN" eval --checkpoint "$out/runs/$first" --out "$out/smoke-${evalopts[i+1]}" --force --backend "${evalopts[i+1]}" \
         --data-dir "$(datadir "$ds")" --limit 1 --nll-temperatures 2 --nvlb-samples 10 >"$out/smoke-${evalopts[i+1]}.log" 2>&1; then
      echo "device-repro: --backend ${evalopts[i+1]} failed a one-image evaluation ($out/smoke-${evalopts[i+1]}.log); evaluating on the cpu backend instead"
      evalopts[i+1]=cpu
    else
      echo "device-repro: --backend ${evalopts[i+1]} passed a one-image evaluation"
    fi
  fi
done
left=()
if [ -n "$deadline" ]; then
  if [ $((deadline - (SECONDS - start))) -lt 30 ]; then
    echo "device-repro: the training used the --deadline; no time left to evaluate (rerun to evaluate)"; exit 0
  fi
  left=(--deadline $((deadline - (SECONDS - start))))
fi
"$root/scripts/eval-grid.sh" "$out/runs" "$out/eval" --data-dir "$datadirs" "${evalopts[@]}" "${left[@]}"
echo "device-repro: $((SECONDS - start)) s in all"
