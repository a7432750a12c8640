#!/usr/bin/env bash
# Strong and weak scaling of Tessera for the LJ melt and the copper Deep Potential: each deck on
# 1, 2, 4, … up to P ranks (strong: a fixed system; weak: a fixed number of atoms per rank, the
# box grown along x), the loop time, the per-phase times of the end-of-run breakdown (avg over
# ranks), parallel efficiency, and the largest resident set of any rank (/usr/bin/time -f %M).
# Writes OUT/RESULTS.md, OUT/rows.txt and, with matplotlib, OUT/strong.png and OUT/weak.png.
# Usage: bench/scaling/run.sh [P (2)] [SIZE small|full (full)] [OUT (bench/scaling)]   (after `make build`)
# Ranks beyond the machine's cores are run (oversubscribed) and marked so in the table.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tessera=${TESSERA_BINARY:-$repo/.build/release/tessera}
max_ranks=${1:-2}
size=${2:-full}
out=${3:-$here}
mkdir -p "$out"
cores=$(getconf _NPROCESSORS_ONLN)   # not nproc: it honours OMP_NUM_THREADS
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ $size == small ]]; then lj_cells=6; lj_steps=50; cu_cells=3; cu_steps=5; else lj_cells=20; lj_steps=100; cu_cells=6; cu_steps=20; fi

# One run: prints "loop pair neigh comm output modify other rss_kib atoms comm_bytes_per_step_per_rank".
measure() {
  local dir=$1 deck=$2 ranks=$3; shift 3
  (cd "$dir" && mpirun -np "$ranks" /usr/bin/time -f "maxrss %M" -o "$work/rss.%q{OMPI_COMM_WORLD_RANK}" \
      "$tessera" run "$deck" --log none "$@") > "$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
  local rss; rss=$(cat "$work"/rss.* | awk '/maxrss/ && $2 > m { m = $2 } END { print m }'); rm -f "$work"/rss.*
  awk -v rss="$rss" '
    /^Loop time of/ { loop = $4; for (i = 1; i <= NF; i++) if ($i == "with") atoms = $(i + 1) }
    /^(Pair|Neigh|Comm|Output|Modify|Other) *\|/ { split($0, f, "|"); t[$1] = f[3] + 0 }
    /^Comm bytes\/step:/ { bytes = $3 }
    END { print loop, t["Pair"], t["Neigh"], t["Comm"], t["Output"], t["Modify"], t["Other"], rss, atoms, bytes }' "$work/out"
}

rank_counts() { local r=1; while (( r <= max_ranks )); do echo $r; r=$((r * 2)); done; (( (max_ranks & (max_ranks - 1)) == 0 )) || echo "$max_ranks"; }

: > "$work/rows"
for ranks in $(rank_counts); do
  lj_weak=$(awk -v c=$lj_cells -v r=$ranks 'BEGIN { print c * r }')
  cu_weak=$(awk -v c=$cu_cells -v r=$ranks 'BEGIN { print c * r }')
  echo "lj strong $ranks $(measure "$here" in.lj $ranks -var n $lj_cells -var steps $lj_steps)" >> "$work/rows"
  echo "lj weak $ranks $(measure "$here" in.lj $ranks -var n $lj_cells -var nx $lj_weak -var steps $lj_steps)" >> "$work/rows"
  echo "cu strong $ranks $(measure "$here" in.cu $ranks -var n $cu_cells -var steps $cu_steps)" >> "$work/rows"
  echo "cu weak $ranks $(measure "$here" in.cu $ranks -var n $cu_cells -var nx $cu_weak -var steps $cu_steps)" >> "$work/rows"
  tail -4 "$work/rows" >&2
done
cp "$work/rows" "$out/rows.txt"
# Debian's python3, the one with python3-matplotlib.
/usr/bin/python3 "$here/report.py" "$out/rows.txt" "$cores" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $cores cores" > "$out/RESULTS.md"
cat "$out/RESULTS.md"
