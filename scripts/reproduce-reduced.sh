#!/usr/bin/env bash
# The reduced-budget reproduction of docs/results.md: IWAE and AIWAE (T=5, L=5) at K=1 and K=5 on MNIST,
# the same epochs for all, then the same reduced AIS protocol on the same test and train images,
# and two 2-d latent models for the posterior figures.
# Usage: scripts/reproduce-reduced.sh [RUNS_DIR] [EPOCHS] [EPOCHS_2D] [AIS_TEMPERATURES]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-runs/reduced}
epochs=${2:-10}
epochs2d=${3:-5}
temps=${4:-500}
data=${AIWAE_DATA:?set AIWAE_DATA to a folder holding mnist/}
mkdir -p "$runs"
train() { # name, epochs, flags...
  local name=$1 n=$2; shift 2
  local resume=() # an existing run folder is continued (a finished one is left as it is)
  [ -d "$runs/$name" ] && resume=(--resume)
  /usr/bin/time -f "$name train %e s" "$root/bin/aiwae" train ${resume[@]+"${resume[@]}"} \
    --dataset mnist --data-dir "$data" --epochs "$n" --out "$runs/$name" "$@"
}
train iwae-k1 "$epochs" --method iwae  --samples 1
train iwae-k5 "$epochs" --method iwae  --samples 5
train aiwae-k1 "$epochs" --method aiwae --samples 1 --temperatures 5 --leapfrog 5
train aiwae-k5 "$epochs" --method aiwae --samples 5 --temperatures 5 --leapfrog 5
train iwae-k5-z2 "$epochs2d" --method iwae  --samples 5 --latent 2
train aiwae-k5-z2 "$epochs2d" --method aiwae --samples 5 --temperatures 5 --leapfrog 5 --latent 2
for name in iwae-k1 iwae-k5 aiwae-k1 aiwae-k5; do
  [ -f "$runs/$name/eval.json" ] || /usr/bin/time -f "$name eval %e s" \
    "$root/bin/aiwae" eval --checkpoint "$runs/$name" --data-dir "$data" --split both --limit 100 \
      --nll-temperatures "$temps" --nvlb-samples 5000 --resume   # continues a killed evaluation
done
"$root/bin/aiwae" table "$runs"/iwae-k1 "$runs"/aiwae-k1 "$runs"/iwae-k5 "$runs"/aiwae-k5 > "$runs/table.md"
"$root/bin/aiwae" posterior --checkpoint "$runs/iwae-k5-z2,$runs/aiwae-k5-z2" --data-dir "$data" --out "$runs/posterior-z2.png"
"$root/bin/aiwae" samples --checkpoint "$runs/aiwae-k5" --data-dir "$data" --out "$runs/samples-aiwae-k5.png"
"$root/bin/aiwae" samples --checkpoint "$runs/iwae-k5" --data-dir "$data" --out "$runs/samples-iwae-k5.png"
