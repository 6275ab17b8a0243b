#!/usr/bin/env bash
# Wall times of a grid on Spark's standalone cluster on this machine, for docs/performance.md. A 4-cell grid (IWAE
# K=1 and K=5 x 2 repeats on the embedded data, the small grid's model, 4 epochs, a reduced evaluation of 50 test
# and 50 training images) runs
#   1. cell after cell without Spark: each cell's train and eval command lines (grid --dry-run --json) in fresh JVMs,
#      one compute thread each (AIWAE_THREADS=1), one after the other;
#   2. on local[2] (two tasks at once in the driver's JVM);
#   3. on a standalone cluster of 2 one-core workers (bin/aiwae cluster start --workers 2 --cores 1);
#   4. the same, with worker-1 (or whichever runs the first cell to finish its second epoch) and its executor killed
#      with SIGKILL at that moment and not restarted;
# and a 1-cell grid that does almost nothing (1 epoch of 20 images, a 2-image evaluation) runs without Spark, on
# local[2] and on the cluster: Spark's fixed cost per submission. Every grid runs in the same RUNS folder (moved
# aside after each run), so the run folders of 2, 3 and 4 can be compared file for file (they must be identical
# but for timings.jsonl and the lock files). The driver's lines get time stamps (seconds since its start).
# Usage: scripts/cluster-bench.sh OUT_DIR     (a table of wall times at the end; every log in OUT_DIR)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: scripts/cluster-bench.sh OUT_DIR" >&2; exit 2; }
out=$(mkdir -p "$1" && cd "$1" && pwd)
aiwae=$root/bin/aiwae
runs=$out/runs
cluster=$out/cluster
export AIWAE_NO_PROGRESS=1
cat >"$out/grid4.json" <<'JSON'
{"name": "bench4", "datasets": ["embedded"], "methods": [{"method": "iwae", "k": [1, 5]}], "repeats": 2, "seed": 0,
 "train": {"epochs": 4, "latent": 50, "hidden": 200},
 "eval": {"split": "both", "limit": 50, "nll_chains": 4, "nll_temperatures": 100, "nll_leapfrog": 5, "nvlb_samples": 200}}
JSON
cat >"$out/grid1.json" <<'JSON'
{"name": "bench1", "datasets": ["embedded"], "methods": [{"method": "iwae", "k": [1]}], "repeats": 1, "seed": 0,
 "train": {"epochs": 1, "latent": 2, "hidden": 8, "train_limit": 20, "eval_samples": 1, "eval_images": 2},
 "eval": {"limit": 2, "nll_chains": 1, "nll_temperatures": 2, "nll_leapfrog": 1, "nvlb_samples": 1}}
JSON
results=()
now() { date +%s.%N; }
took() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
stamp() { local t0=$1; while IFS= read -r l; do printf '%7s %s\n' "$(took "$t0")" "$l"; done; }
record() { results+=("$(printf '%-44s %8.1f s' "$1" "$2")"); echo "cluster-bench: $1: $2 s (load $(cut -d' ' -f1-3 /proc/loadavg))"; }
aside() { mv "$runs" "$out/runs-$1"; }

sequential() { # GRID LABEL: every cell's train and eval commands, one after the other
  local t0 cmds label=$2
  rm -rf "$runs"
  # one shell-quoted argument list per line: each cell's train, then its eval
  cmds=$("$aiwae" grid "$1" --dry-run --json --runs "$runs" | jq -r '.cells[] | (.train, .eval) | map(@sh) | join(" ")')
  mkdir -p "$runs"
  t0=$(now)
  while IFS= read -r c; do
    eval "set -- $c"
    AIWAE_THREADS=1 "$aiwae" "$@" >>"$out/$label.log" 2>&1
  done <<<"$cmds"
  record "$label" "$(took "$t0")"
  aside "$label"
}

grid() { # GRID MASTER LABEL
  local t0
  rm -rf "$runs"
  t0=$(now)
  "$aiwae" grid "$1" --master "$2" --runs "$runs" 2>&1 | stamp "$t0" >"$out/$3.log"
  record "$3" "$(took "$t0")"
  aside "$3"
}

killed() { # GRID MASTER LABEL: kills the worker of the first cell to publish its second epoch
  local t0 pid=() cell dir exe worker
  rm -rf "$runs"
  t0=$(now)
  ( "$aiwae" grid "$1" --master "$2" --runs "$runs" 2>&1 | stamp "$t0" >"$out/$3.log" ) & pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for dir in "$runs"/*/seed-*; do
      if [ "$(cat "$dir/LATEST" 2>/dev/null)" = epoch-0002 ] && [ -s "$dir/lock" ]; then
        exe=$(cut -d@ -f1 "$dir/lock"); worker=$(ps -o ppid= -p "$exe" | tr -d ' ')
        if ps -o args= -p "$worker" | grep -q "aiwae.cluster=$cluster"; then
          kill -9 "$worker" "$exe"
          echo "$(took "$t0") killed worker pid $worker and executor pid $exe running ${dir#"$runs"/}" >>"$out/$3.kill"
          break 2
        fi
      fi
    done
    sleep 0.2
  done
  wait "$pid"
  record "$3" "$(took "$t0")"
  aside "$3"
}

echo "cluster-bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ), main $(git -C "$root" rev-parse --short HEAD)"
"$aiwae" --version >/dev/null 2>&1 || true                      # builds if needed, outside every measurement
master=$("$aiwae" cluster start --dir "$cluster" --workers 2 --cores 1 2>"$out/cluster-start.log")
trap '"$aiwae" cluster stop --dir "$cluster" >/dev/null 2>&1' EXIT

sequential "$out/grid1.json" "1 cell, almost no work: without Spark"
grid "$out/grid1.json" 'local[2]' "1 cell, almost no work: local[2]"
grid "$out/grid1.json" "$master" "1 cell, almost no work: cluster"
sequential "$out/grid4.json" "4 cells: one after another without Spark"
grid "$out/grid4.json" 'local[2]' "4 cells: local[2]"
grid "$out/grid4.json" "$master" "4 cells: cluster, 2 workers x 1 core"
killed "$out/grid4.json" "$master" "4 cells: cluster, a worker killed"

same=identical
for r in "4 cells: one after another without Spark" "4 cells: cluster, 2 workers x 1 core" "4 cells: cluster, a worker killed"; do
  # the cells' folders (the grid itself writes grid.json and tables.md besides)
  diff -r -q -x timings.jsonl -x lock -x grid.json -x tables.md "$out/runs-4 cells: local[2]" "$out/runs-$r" >/dev/null \
    || same="DIFFERENT (diff -r)"
done
printf '%s\n' "${results[@]}"
echo "4-cell run folders without Spark, on the cluster and with a kill against local[2]'s: $same"
echo "kill at $(cat "$out"/*.kill 2>/dev/null)"
