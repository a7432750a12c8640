#!/usr/bin/env bash
# Times the LJ melt (bench/in.lj) with Tessera and with LAMMPS (Debian's lmp) on 1 and 2 ranks,
# alternating the two codes REPEATS times so both see the same machine state, and writes the best
# loop times and their ratio to the lj section of bench/RESULTS.md (bench/section.sh keeps the other
# harnesses' sections) with a description of the machine.
# Usage: bench/run.sh [REPEATS]   (after `make build`; `make bench` does both)
set -euo pipefail
cd "$(dirname "$0")"
repeats=${1:-3}
tessera=../.build/release/tessera
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Reads the whole output (stopping early would hand mpirun a SIGPIPE).
loop_time() { awk '/^Loop time of/ && !seen { print $4; seen = 1 }'; }
keep_min() { if [[ -z ${best[$1]:-} ]] || (( $(echo "$2 < ${best[$1]}" | bc) )); then best[$1]=$2; fi; }

declare -A best
for ranks in 1 2; do
  for ((r = 0; r < repeats; r++)); do
    keep_min lammps$ranks "$(cd "$work" && mpirun --oversubscribe -np $ranks lmp -in "$OLDPWD/in.lj" -log none | loop_time)"
    keep_min tessera$ranks "$(cd "$work" && mpirun --oversubscribe -np $ranks "$OLDPWD/$tessera" run "$OLDPWD/in.lj" --log none | loop_time)"
  done
done

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "## LJ melt: Tessera vs LAMMPS (\`bench/run.sh\`)"
  echo
  echo "LJ melt, 32,000 atoms, 100 steps (\`bench/in.lj\`), best of $repeats alternating runs, written by \`bench/run.sh\` on $(date -u +%Y-%m-%d)."
  echo
  echo "Machine: $cpu, $(nproc --all) vCPUs; LAMMPS $(lmp -h | grep -m1 -o "[0-9]* [A-Z][a-z]* 20[0-9][0-9][^)]*" | head -1) (Debian package); $(mpirun --version | head -1)."
  echo
  echo "| ranks | LAMMPS loop time (s) | Tessera loop time (s) | LAMMPS / Tessera |"
  echo "| --- | --- | --- | --- |"
  for ranks in 1 2; do
    l=${best[lammps$ranks]}; t=${best[tessera$ranks]}
    echo "| $ranks | $l | $t | $(echo "scale=2; $l / $t" | bc) |"
  done
  echo
  echo "A ratio above 1 means Tessera is faster. The two vCPUs of the build machines give about 1.07× one core's throughput, so the 2-rank row measures overhead, not parallel efficiency."
} | ./section.sh lj RESULTS.md
cat RESULTS.md
