#!/usr/bin/env bash
# Cost of the thermostats and the barostat next to the force evaluation: the LJ melt (bench/in.lj,
# 32,000 atoms) and the copper Deep Potential deck (inputs/cu/in.cu, n = 8: 2,048 atoms) run with
# `fix nve` and with each thermostat/barostat in its place, best of REPEATS runs. From each run's
# timing breakdown: Pair (forces) and Modify (all fixes, LAMMPS's row: the velocity-Verlet
# integration itself is there too) per step; the thermostat's own cost is Modify minus NVE's
# Modify. Writes bench/fixes/RESULTS.md.
# Usage: bench/fixes/run.sh [REPEATS] [RANKS]   (after `make build`)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
repeats=${1:-3}
ranks=${2:-1}
tessera=$repo/.build/release/tessera
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# "loop pair modify" seconds of one run (averages over ranks), from the end-of-run summary.
timings() {
  awk '/^Loop time of/ && !l { loop = $4; l = 1 }
       /^Pair / && !p { pair = $5; p = 1 }
       /^Modify / && !m { modify = $5; m = 1 }
       END { print loop, pair, modify }'
}

# bench NAME DECK STEPS FIXLINES: best-of-REPEATS "loop pair modify" (by loop time) into results[NAME].
declare -A results
bench() {
  local name=$1 deck=$2 steps=$3 fixes=$4 best="" line
  awk -v fixes="$fixes" '/^fix +1 +all +nve/ { print fixes; next } { print }' "$deck" > "$work/in.deck"
  for ((r = 0; r < repeats; r++)); do
    line=$(cd "$work" && mpirun --oversubscribe -np "$ranks" "$tessera" run in.deck --log none \
             --var steps="$steps" --var n=8 | timings)
    if [[ -z $best ]] || (( $(echo "${line%% *} < ${best%% *}" | bc) )); then best=$line; fi
  done
  results[$name]="$steps $best"
}

lj=$repo/bench/in.lj
sed "s|^run 100|run \${steps}|" "$lj" > "$work/lj.in"
cu=$work/cu.in
sed "s|\.\./models/|$repo/inputs/models/|" "$repo/inputs/cu/in.cu" > "$cu"
# fix styles, the same physical settings in each unit system
declare -a cases=(
  "nve|fix 1 all nve|fix 1 all nve"
  "nvt|fix 1 all nvt temp 1.44 1.44 0.5|fix 1 all nvt temp 300 300 0.1"
  "npt iso|fix 1 all npt temp 1.44 1.44 0.5 iso 5.0 5.0 2.5|fix 1 all npt temp 300 300 0.1 iso 0 0 1.0"
  "npt aniso|fix 1 all npt temp 1.44 1.44 0.5 aniso 5.0 5.0 2.5|fix 1 all npt temp 300 300 0.1 aniso 0 0 1.0"
  "nph x y z|fix 1 all nph x 5.0 5.0 2.5 y 5.0 5.0 2.5 z 4.0 4.0 2.5|fix 1 all nph x 0 0 1.0 y 0 0 1.0 z 100 100 1.0"
  "langevin|fix 1 all nve\nfix 2 all langevin 1.44 1.44 0.5 48279|fix 1 all nve\nfix 2 all langevin 300 300 0.1 48279"
  "temp/csvr|fix 1 all nve\nfix 2 all temp/csvr 1.44 1.44 0.5 48279|fix 1 all nve\nfix 2 all temp/csvr 300 300 0.1 48279"
  "temp/berendsen|fix 1 all nve\nfix 2 all temp/berendsen 1.44 1.44 0.5|fix 1 all nve\nfix 2 all temp/berendsen 300 300 0.1"
)
for entry in "${cases[@]}"; do
  IFS='|' read -r name ljfix cufix <<< "$entry"
  bench "lj $name" "$work/lj.in" 200 "$(printf '%b' "$ljfix")"
  bench "cu $name" "$cu" 20 "$(printf '%b' "$cufix")"
done

row() {  # system case -> markdown row
  read -r steps loop pair modify <<< "${results[$1 $2]}"
  read -r _ _ _ nveModify <<< "${results[$1 nve]}"
  awk -v c="$2" -v s="$steps" -v l="$loop" -v p="$pair" -v m="$modify" -v n="$nveModify" 'BEGIN {
    step = l / s * 1e3; extra = (m - n) / s * 1e3
    printf "| %s | %.3f | %.3f | %.4f | %.1f %% | %.4f | %.2f %% |\n", c, step, p / s * 1e3, m / s * 1e3, 100 * m / l, extra, 100 * extra / step
  }'
}

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "# Thermostat and barostat cost"
  echo
  echo "Written by \`bench/fixes/run.sh $repeats $ranks\` on $(date -u +%Y-%m-%d): $ranks rank(s), best of $repeats runs each."
  echo "Machine: $cpu, $(nproc --all) vCPUs; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "Modify is LAMMPS's row of the timing breakdown: every fix, the velocity-Verlet integration"
  echo "included. \"Beyond NVE\" is Modify minus that of \`fix nve\` on the same system: what the"
  echo "thermostat or barostat itself costs (a negative figure is timing noise)."
  for system in lj cu; do
    echo
    if [[ $system == lj ]]; then echo "## LJ melt (\`bench/in.lj\`, 32,000 atoms, 200 steps)"; else echo "## Copper Deep Potential (\`inputs/cu/in.cu\`, n = 8: 2,048 atoms, 20 steps)"; fi
    echo
    echo "| fix | step (ms) | Pair (ms/step) | Modify (ms/step) | Modify / step | beyond NVE (ms/step) | beyond NVE / step |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    for entry in "${cases[@]}"; do row $system "${entry%%|*}"; done
  done
} > "$here/RESULTS.md"
cat "$here/RESULTS.md"
