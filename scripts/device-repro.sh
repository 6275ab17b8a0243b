#!/usr/bin/env bash
# On a bigger machine (e.g. the 16-core GPU host): finish the trainings of a carried reduced-reproduction folder
# on the CPU backend (resume is bit for bit, so a run finished here equals one finished where it started), then
# evaluate every run with scripts/eval-grid.sh, all into OUT_DIR (which is what comes back).
#
# Usage: scripts/device-repro.sh CARRY OUT_DIR [--train-parallel N] [--train-threads K] [--deadline SECONDS]
#                                [eval-grid options: --backend B --parallel N --threads K --data-dir D --limit N ...]
#   CARRY holds runs/<grid folder>/{grid.json, CONFIG/seed-S/...} (finished runs: config.json, model.safetensors,
#   metrics.jsonl; unfinished ones also LATEST and their last checkpoints/epoch-NNNN) and optionally data/<dataset>/.
#   If OUT_DIR/runs already exists (a second call with the first call's OUT_DIR carried back), it is continued.
#   --deadline: seconds for the whole script (training + evaluation); the evaluation gets what training left.
# Data: each run's dataset is looked up in --data-dir's folders, then CARRY/data.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "device-repro: $*" >&2; exit 2; }
[ $# -ge 2 ] || die "usage: scripts/device-repro.sh CARRY OUT_DIR [--train-parallel N] [--train-threads K] [--deadline S] [eval-grid options]"
carry=$(cd "$1" && pwd) || die "no folder $1"; out=$2; shift 2
tpar=4 tthreads=4 deadline="" datadirs=${AIWAE_DATA:-} evalopts=()
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case "$1" in
    --train-parallel) tpar=$2 ;; --train-threads) tthreads=$2 ;; --deadline) deadline=$2 ;;
    --data-dir) datadirs=$2 ;;
    *) evalopts+=("$1" "$2") ;;
  esac
  shift 2
done
datadirs="${datadirs:+$datadirs:}$carry/data"
start=$SECONDS
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -d "$out/runs" ] || cp -r "$carry/runs" "$out/runs"
# 1. cells whose training is not finished (last epoch in metrics.jsonl < epochs in config.json, or not started)
cells=$(mktemp); trap 'rm -f "$cells"' EXIT
for g in "$out"/runs/*/grid.json; do
  gd=$(dirname "$g")
  "$root/bin/aiwae" grid "$g" --dry-run --runs "$gd" 2>/dev/null | grep -v '^ ' | grep '/seed-' | sed 's/ (done)$//' | while read -r cell; do
    run=$gd/$cell
    if [ -f "$run/config.json" ] && [ -f "$run/metrics.jsonl" ]; then
      want=$(jq -r .epochs "$run/config.json"); have=$(tail -n 1 "$run/metrics.jsonl" | jq -r .epoch)
      [ "$have" -ge "$want" ] && continue
    fi
    ds=$(jq -r '.datasets[0]' "$g"); dir=""
    IFS=: read -ra dirs <<<"$datadirs"
    for d in "${dirs[@]}"; do [ -d "$d/$ds" ] && { dir=$(cd "$d" && pwd); break; }; done
    [ "$ds" = embedded ] && dir=${dir:-$carry}   # inside the jar; any folder will do
    [ -n "$dir" ] || die "no folder $ds/ in $datadirs"
    echo "$g $gd $dir $cell" >>"$cells"
  done
done
if [ -s "$cells" ]; then
  echo "device-repro: training $(wc -l <"$cells") unfinished cells, $tpar at a time, $tthreads threads each:"; cat "$cells"
  AIWAE_THREADS=$tthreads "$root/scripts/train-cells.sh" "$tpar" "$cells"
  echo "device-repro: training done after $((SECONDS - start)) s"
fi
# 2. evaluation of every run with one protocol
left=()
[ -n "$deadline" ] && left=(--deadline $((deadline - (SECONDS - start))))
"$root/scripts/eval-grid.sh" "$out/runs" "$out/eval" --data-dir "$datadirs" "${evalopts[@]}" "${left[@]}"
echo "device-repro: $((SECONDS - start)) s in all"
