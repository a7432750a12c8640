#!/usr/bin/env bash
# Times LAMMPS's EAM benchmark (bench/eam/in.eam: 32,000 Cu atoms, Cu_u3, 100 steps) with Tessera
# and with LAMMPS (Debian's lmp) on 1 and 2 ranks, alternating the two codes REPEATS times so both
# see the same machine state, and writes the best loop times, their ratio and each code's timing
# breakdown of its best run to the eam section of bench/RESULTS.md.
# Usage: bench/eam/run.sh [REPEATS]   (after `make build`)
set -euo pipefail
cd "$(dirname "$0")"
repeats=${1:-3}
tessera=$PWD/../../.build/release/tessera
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none \
  OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp in.eam ../../inputs/eam/Cu_u3.eam "$work"

# Reads the whole output (stopping early would hand mpirun a SIGPIPE).
loop_time() { awk '/^Loop time of/ && !seen { print $4; seen = 1 }' "$1"; }
# "pair neigh comm" average seconds from a run's timing breakdown (LAMMPS's and Tessera's layout).
breakdown() { awk -F'|' '/^(Pair|Neigh|Comm) / { gsub(/ /, "", $1); gsub(/ /, "", $3); t[$1] = $3 } END { printf "%s %s %s", t["Pair"], t["Neigh"], t["Comm"] }' "$1"; }

declare -A best detail
for ranks in 1 2; do
  for ((r = 0; r < repeats; r++)); do
    for code in lammps tessera; do
      if [[ $code == lammps ]]; then command=(lmp -in in.eam -log none); else command=("$tessera" run in.eam --log none); fi
      (cd "$work" && mpirun --oversubscribe -np $ranks "${command[@]}" > out.$code)
      t=$(loop_time "$work/out.$code")
      if [[ -z ${best[$code$ranks]:-} ]] || (( $(echo "$t < ${best[$code$ranks]}" | bc) )); then
        best[$code$ranks]=$t
        detail[$code$ranks]=$(breakdown "$work/out.$code")
      fi
    done
  done
done

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "## EAM copper: Tessera vs LAMMPS (\`bench/eam/run.sh\`)"
  echo
  echo "LAMMPS's EAM benchmark: fcc Cu, 32,000 atoms, \`pair_style eam\` with Cu_u3, 100 steps (\`bench/eam/in.eam\`), best of $repeats alternating runs, written by \`bench/eam/run.sh\` on $(date -u +%Y-%m-%d)."
  echo
  echo "Machine: $cpu, $(nproc --all) vCPUs, load average at the end $(cut -d' ' -f1-3 /proc/loadavg); LAMMPS $(lmp -h | grep -m1 -o "[0-9]* [A-Z][a-z]* 20[0-9][0-9][^)]*" | head -1) (Debian package, plain \`PairEAM\`); $(mpirun --version | head -1)."
  echo
  echo "| ranks | LAMMPS loop time (s) | Tessera loop time (s) | LAMMPS / Tessera | LAMMPS Pair / Neigh / Comm (s) | Tessera Pair / Neigh / Comm (s) |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for ranks in 1 2; do
    l=${best[lammps$ranks]}; t=${best[tessera$ranks]}
    echo "| $ranks | $l | $t | $(echo "scale=2; $l / $t" | bc) | ${detail[lammps$ranks]// / \/ } | ${detail[tessera$ranks]// / \/ } |"
  done
  echo
  echo "A ratio above 1 means Tessera is faster (target: at least 1). Pair / Neigh / Comm: average seconds over ranks from each code's timing breakdown of its best run; the reverse sum of ρ and the forward copy of F'(ρ) happen inside the force evaluation, so both codes count them in Pair."
} | ../section.sh eam ../RESULTS.md
sed -n '/<!-- begin eam -->/,/<!-- end eam -->/p' ../RESULTS.md
