#!/usr/bin/env bash
# Writes the train-todo.txt that scripts/device-repro.sh reads: for the given cells of a grid file, the exact
# `aiwae train` arguments of `aiwae grid --dry-run`, with the run folder as @RUN@ and the data folder as @DATA@.
# Usage: scripts/train-todo.sh GRID.json GRID_FOLDER_NAME CONFIG/seed-S... >> train-todo.txt
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 3 ] || { echo "usage: scripts/train-todo.sh GRID.json GRID_FOLDER_NAME CONFIG/seed-S..." >&2; exit 2; }
grid=$1 name=$2; shift 2
ds=$(jq -r '.datasets[0]' "$grid")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
dry=$("${AIWAE_BIN:-$root/bin/aiwae}" grid "$grid" --dry-run --runs "$tmp/R" --data-dir "$tmp/D" 2>/dev/null)
for cell in "$@"; do
  line=$(awk -v c="$cell" 'index($0, c" (") == 1 {getline; sub(/^  aiwae /, ""); print; exit}' <<<"$dry")
  [ -n "$line" ] || { echo "train-todo: no cell $cell in $grid" >&2; exit 2; }
  line=${line//$tmp\/R\/$cell/@RUN@}; line=${line//$tmp\/D/@DATA@}
  echo "$name/$cell $ds $line"
done
