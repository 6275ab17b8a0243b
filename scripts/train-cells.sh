#!/usr/bin/env bash
# Trains chosen cells of grid files, PARALLEL at a time, each `nice -n 19` on AIWAE_THREADS=1 (default), with the
# exact `aiwae train` command line that `aiwae grid --dry-run` gives for the cell (so the run folders are the grid's
# RUNS/CONFIG/seed-S and `aiwae table RUNS` reads them); evaluation is separate (scripts/eval-grid.sh).
# Resumable: rerunning continues every started cell from its last complete epoch (--resume-if-started).
# Usage: scripts/train-cells.sh PARALLEL CELLS_FILE
#   CELLS_FILE: one cell a line, in the order to start them: GRID.json RUNS_DIR DATA_DIR CONFIG/seed-S
# Environment: AIWAE_BIN (default bin/aiwae), AIWAE_THREADS (default 1), AIWAE_HEAP (default 2g).
# Each cell's stdout/stderr goes to RUNS_DIR/CONFIG/seed-S.log, its wall time to RUNS_DIR/train-times.tsv.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { echo "usage: scripts/train-cells.sh PARALLEL CELLS_FILE" >&2; exit 2; }
parallel=$1 cells=$2
[ -r "$cells" ] || { echo "train-cells: cannot read CELLS_FILE $cells" >&2; exit 2; }
export AIWAE_BIN=${AIWAE_BIN:-$root/bin/aiwae} AIWAE_THREADS=${AIWAE_THREADS:-1} AIWAE_HEAP=${AIWAE_HEAP:-2g}
one() { # GRID RUNS DATA CELL
  local grid=$1 runs=$2 data=$3 cell=$4 cmd
  mkdir -p "$runs" "$runs/$(dirname "$cell")"
  [ -f "$runs/grid.json" ] || cp "$grid" "$runs/grid.json"   # what `aiwae table RUNS` reads
  cmd=$("$AIWAE_BIN" grid "$grid" --dry-run --runs "$runs" --data-dir "$data" 2>/dev/null \
        | awk -v c="$cell" 'index($0, c" (") == 1 {getline; sub(/^  aiwae /, ""); print; exit}')
  [ -n "$cmd" ] || { echo "train-cells: no cell $cell in $grid" >&2; return 1; }
  local t0=$SECONDS
  # shellcheck disable=SC2086  # the grid's command line has no spaces inside its arguments
  if nice -n 19 "$AIWAE_BIN" $cmd >>"$runs/$cell.log" 2>&1; then
    printf '%s\t%s\t%d\n' "$runs" "$cell" $((SECONDS - t0)) >>"$runs/train-times.tsv"
  else
    echo "train-cells: $cell failed (exit $?); see $runs/$cell.log" >&2
  fi
}
export -f one
grep -v '^\s*\(#\|$\)' "$cells" | xargs -P "$parallel" -L 1 bash -c 'one "$@"' _
