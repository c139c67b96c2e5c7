#!/usr/bin/env bash
# Slurm job array for a sharded fmbench run: one array task per shard, then a dependent merge job.
# Usage (from the repository root):  N=8 SUITE=cifar10 EXTRA="--budget small" bash scripts/slurm-bench.sh
# Each task runs `deno task bench --shard $SLURM_ARRAY_TASK_ID/$N`; the merge job writes
# runs/<suite>-merged/report.html once every shard succeeded (afterok).
#SBATCH --job-name=fmbench
set -euo pipefail
N=${N:-4}
SUITE=${SUITE:-toy2d}
EXTRA=${EXTRA:-}
DENO=${DENO:-"npx -y deno@2.9.6"}
OUT=${OUT:-runs/$SUITE-slurm}

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ] && [ "${1:-}" != "--merge" ]; then
  # Submitter: the array of shards, then the merge after all of them succeed.
  mkdir -p "$OUT/logs"
  array=$(sbatch --parsable --array=0-$((N - 1)) --output="$OUT/logs/shard-%a.log" \
    --export=ALL,N="$N",SUITE="$SUITE",EXTRA="$EXTRA",OUT="$OUT" "$0")
  sbatch --dependency=afterok:"$array" --output="$OUT/logs/merge.log" \
    --export=ALL,N="$N",SUITE="$SUITE",OUT="$OUT" "$0" --merge
  echo "submitted shards as job $array; the merged report will be $OUT/merged/report.html"
  exit 0
fi

if [ "${1:-}" = "--merge" ]; then
  shards=()
  for i in $(seq 0 $((N - 1))); do shards+=("$OUT/shard-$i"); done
  $DENO task report --merge "${shards[@]}" --out "$OUT/merged"
  exit 0
fi

# Array task: one shard. Re-running the same task resumes (complete runs are skipped).
# shellcheck disable=SC2086
$DENO task bench --suite "$SUITE" --shard "$SLURM_ARRAY_TASK_ID/$N" \
  --out "$OUT/shard-$SLURM_ARRAY_TASK_ID" --no-report $EXTRA
