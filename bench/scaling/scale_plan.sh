#!/usr/bin/env bash
# Measures what a 100 M-atom plan needs and writes bench/SCALE.md (through scale_plan.py): message
# latency and bandwidth between two ranks (pingpong.c; shared memory and TCP on this host), the copper
# Deep Potential's CPU time per atom-step on one rank (uncompressed and compressed), its resident memory
# at two sizes (bytes per atom and a constant), and the ghost shell of a 2×2×2 grid as the run summary
# reports it (Nghost and Comm bytes/step), to check the shell formula the plan uses.
# Usage: bench/scaling/scale_plan.sh [OUT (bench/SCALE.md)]   (after `make build`)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tessera=${TESSERA_BINARY:-$repo/.build/release/tessera}
out=${1:-$repo/bench/SCALE.md}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
plain=../../inputs/models/cu_se_e2_a/cu_se_e2_a.dp
compressed=../../inputs/models/cu_se_e2_a_compressed/cu_se_e2_a_compressed.dp
facts=$work/facts
echo "load_before $(cut -d' ' -f1 /proc/loadavg)" > "$facts"
echo "machine $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //' | tr ' ' '_')" >> "$facts"

mpicc -O2 -o "$work/pingpong" "$here/pingpong.c"
# Three rounds each, the best kept (scale_plan.py): other jobs only ever slow a message down.
for round in 1 2 3; do
  mpirun -np 2 "$work/pingpong" | sed 's/^/pingpong_shm /' >> "$facts"
  mpirun -np 2 --mca btl tcp,self "$work/pingpong" | sed 's/^/pingpong_tcp /' >> "$facts"
done

# One run of in.cu: "<label> atoms loop_seconds steps max_rss_kib nghost comm_bytes_per_step cpu_seconds"
# (cpu: user + system time of all ranks, set-up included).
run() {
  local label=$1 ranks=$2 cells=$3 steps=$4 model=$5
  (cd "$here" && mpirun -np "$ranks" /usr/bin/time -f "maxrss %M cpu %U %S" -o "$work/rss.%q{OMPI_COMM_WORLD_RANK}" \
      "$tessera" run in.cu --log none -var n "$cells" -var steps "$steps" -var model "$model") > "$work/out" 2>&1 \
    || { cat "$work/out" >&2; exit 1; }
  local rss cpu
  rss=$(cat "$work"/rss.* | awk '/maxrss/ && $2 > m { m = $2 } END { print m }')
  cpu=$(cat "$work"/rss.* | awk '/maxrss/ { c += $4 + $5 } END { print c }'); rm -f "$work"/rss.*
  awk -v label="$label" -v rss="$rss" -v cpu="$cpu" '
    /^Loop time of/ { loop = $4; steps = $9; for (i = 1; i <= NF; i++) if ($i == "with") atoms = $(i + 1) }
    /^Nghost:/ { ghosts = $2 }
    /^Comm bytes\/step:/ { bytes = $3 }
    END { print label, atoms, loop, steps, rss, ghosts, bytes, cpu }' "$work/out" >> "$facts"
}
# The same system for 1 and 1 + k steps: the difference of their CPU times is k steps' work alone,
# whatever share of the CPUs other jobs take.
run time_plain 1 10 1 "$plain"
run time_plain 1 10 6 "$plain"
run time_compressed 1 10 1 "$compressed"
run time_compressed 1 10 11 "$compressed"
run memory_plain 1 6 1 "$plain"
run memory_plain 1 16 1 "$plain"
run memory_compressed 1 6 1 "$compressed"
run memory_compressed 1 16 1 "$compressed"
run shell_2x2x2 8 10 2 "$compressed"
echo "load_after $(cut -d' ' -f1 /proc/loadavg)" >> "$facts"
cp "$facts" "$here/scale_facts.txt"
/usr/bin/python3 "$here/scale_plan.py" "$here/scale_facts.txt" > "$out"
echo "wrote $out"
