#!/usr/bin/env bash
# Model deviation benchmark (issue 7): the cost of an MD step of fcc copper with the ensemble's
# deviation written every step (pair_style deepmd M1 … M4 out_freq 1), relative to the same step
# with the first model alone. Two ensembles:
#   mixed  : cu_se_e2_a driving + the three small models of inputs/models/cu_ensemble (the tested ensemble)
#   4×same : four copies of cu_se_e2_a (four equally expensive models)
# Usage (after `make build`): bench/devi/run.sh [CELLS (default 6: 864 atoms)] [STEPS (default 20)] [RANKS (default 1)]
# Prints the loop times and ratios and writes bench/devi/RESULTS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cells=${1:-6}
steps=${2:-20}
ranks=${3:-1}
bin=${TESSERA_BIN:-$repo/.build/release/tessera}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
m=$repo/inputs/models
base=$m/cu_se_e2_a/cu_se_e2_a.dp

loop_time() {  # MODELS… → seconds of the run's loop
  cat > "$work/in.bench" <<DECK
units metal
atom_style atomic
lattice fcc 3.615
region box block 0 $cells 0 $cells 0 $cells
create_box 1 box
create_atoms 1 box
mass 1 63.546
pair_style deepmd $* $( [[ $# -gt 1 ]] && echo "out_freq 1 out_file $work/devi.out" )
pair_coeff * * Cu
velocity all create 900 4928459
neighbor 1.0 bin
neigh_modify every 10 delay 0 check yes
timestep 0.001
fix 1 all nve
thermo $steps
run $steps
DECK
  (cd "$work" && mpirun -np "$ranks" "$bin" run in.bench --log none) | awk '/^Loop time of/ {print $4}'
}

one=$(loop_time "$base")
mixed=$(loop_time "$base" "$m/cu_ensemble/cu_ens1.dp" "$m/cu_ensemble/cu_ens2.dp" "$m/cu_ensemble/cu_ens3.dp")
same=$(loop_time "$base" "$base" "$base" "$base")
atoms=$((4 * cells * cells * cells))
report=$(cat <<TXT
# Model deviation benchmark

$(date -u +%Y-%m-%d), $(nproc --all) vCPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $atoms atoms, $steps steps, $ranks rank(s), deviation every step.

| ensemble | loop time (s) | relative to 1 model |
| --- | ---: | ---: |
| 1 model (cu_se_e2_a) | $one | 1.00 |
| cu_se_e2_a + 3 small cu_ensemble models | $mixed | $(awk -v a="$mixed" -v b="$one" 'BEGIN {printf "%.2f", a / b}') |
| 4 × cu_se_e2_a | $same | $(awk -v a="$same" -v b="$one" 'BEGIN {printf "%.2f", a / b}') |
TXT
)
echo "$report"
echo "$report" > "$here/RESULTS.md"
