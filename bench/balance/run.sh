#!/usr/bin/env bash
# Load balancing of an LJ liquid slab with vacuum (in.slab), cut 1×1×P: the timed run unbalanced,
# after `balance 1.0 shift z 20 1.02`, and under `fix balance 50 1.05 shift z 10 1.02`, on each rank
# count up to P. Records the loop time, the Pair time (min/avg/max over ranks) and the atoms per rank
# (max/mean of Nlocal) in OUT/RESULTS.md.
# Usage: bench/balance/run.sh [P (2)] [CELLS (12)] [STEPS (200)] [OUT (bench/balance)]   (after `make build`)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tessera=${TESSERA_BINARY:-$repo/.build/release/tessera}
max_ranks=${1:-2}; cells=${2:-12}; steps=${3:-200}; out=${4:-$here}
mkdir -p "$out"
cores=$(getconf _NPROCESSORS_ONLN)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  echo "# Load balancing: LJ liquid slab, $cells³ fcc cells in a third of the box along z, $steps steps"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $cores cores; $(date -u +%Y-%m-%d)."
  echo "Rows with more ranks than cores are oversubscribed (they exercise the code, they do not time it)."
  echo
  echo "| ranks | balancing | loop (s) | Pair min / avg / max (s) | atoms per rank max/mean |"
  echo "| ---: | --- | ---: | --- | ---: |"
} > "$work/table"
ranks=2
while (( ranks <= max_ranks )); do
  for mode in none balance fix; do
    case $mode in
      none) setting="print unbalanced" ;;
      balance) setting="balance 1.0 shift z 20 1.02" ;;
      fix) setting="fix 2 all balance 50 1.05 shift z 10 1.02" ;;
    esac
    (cd "$here" && mpirun -np "$ranks" "$tessera" run in.slab --log none -var n "$cells" -var steps "$steps" \
        -var balance "$setting") > "$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
    row=$(awk '/^Loop time of/ { loop = $4 } /^Pair *\|/ { split($0, f, "|"); pair = f[2] + 0 " / " f[3] + 0 " / " f[4] + 0 }
               /^Nlocal:/ { imb = sprintf("%.3f", $4 / $2) } END { print loop " | " pair " | " imb }' "$work/out")
    flag=""; (( ranks > cores )) && flag=" (oversubscribed)"
    echo "| $ranks$flag | $mode | $row |" >> "$work/table"
    tail -1 "$work/table" >&2
  done
  ranks=$((ranks * 2))
done
cp "$work/table" "$out/RESULTS.md"
cat "$out/RESULTS.md"
