#!/usr/bin/env bash
# Packs run folders for scripts/device-repro.sh on another machine: CARRY/runs/<grid folder>/grid.json and, per run,
# config.json, metrics.jsonl, timings.jsonl and model.safetensors, plus LATEST and the last checkpoint when the run
# has not reached its configured epochs (so it can be resumed there); no older checkpoints, no logs.
# Usage: scripts/make-carry.sh CARRY GRID_FOLDER...   (each GRID_FOLDER holds grid.json and CONFIG/seed-S runs)
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: scripts/make-carry.sh CARRY GRID_FOLDER..." >&2; exit 2; }
carry=$1; shift
mkdir -p "$carry/runs"
for g in "$@"; do
  [ -f "$g/grid.json" ] || { echo "make-carry: $g has no grid.json" >&2; exit 2; }
  name=$(basename "$g")
  mkdir -p "$carry/runs/$name"; cp "$g/grid.json" "$carry/runs/$name/"
  (cd "$g" && find . -name config.json -not -path '*/checkpoints/*' -printf '%h\n' | sed 's#^\./##') | while read -r r; do
    src=$g/$r dst=$carry/runs/$name/$r
    [ -f "$src/model.safetensors" ] || continue   # started but no epoch finished: train it from scratch there
    mkdir -p "$dst"
    for f in config.json metrics.jsonl timings.jsonl model.safetensors; do [ -f "$src/$f" ] && cp "$src/$f" "$dst/"; done
    have=$(tail -n 1 "$src/metrics.jsonl" | jq -r .epoch); want=$(jq -r .epochs "$src/config.json")
    if [ "$have" -lt "$want" ]; then
      cp "$src/LATEST" "$dst/"; mkdir -p "$dst/checkpoints"; cp -r "$src/checkpoints/$(cat "$src/LATEST")" "$dst/checkpoints/"
    fi
    echo "make-carry: $name/$r at epoch $have of $want"
  done
done
du -sh "$carry"
