#!/usr/bin/env bash
# A longer crash soak than CI's: CrashSafetyTest's soak with KILLS SIGKILLs at random instants (after
# one kill inside each step of a checkpoint's publication), then the resumed run must be byte-identical
# to an uninterrupted one in every file but timings.jsonl. About 3-5 s per kill on a 2-core machine.
# Usage: scripts/crash-soak.sh [KILLS=200] [SEED=1]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bin/lib/jdk.sh"
find_jdk
need_maven
cd "$root"
kills=${1:-200}
seed=${2:-1}
mvn -B -ntp -q verify -pl src -am -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtest='CrashSafetyTest#killedAtEveryStepAndAtRandomInstantsEndsByteIdenticalToAnUninterruptedRun' \
  -Daiwae.soak.kills="$kills" -Daiwae.soak.seed="$seed"
echo "crash-soak: passed ($kills random kills, seed $seed; the kill count is in the CrashSafetyTest line above)"
