#!/usr/bin/env bash
# One-off cross-check of pair_style deepmd's model_devi.out against LAMMPS + DeePMD-kit 3.2.0's plugin.
# Tessera runs inputs/cu_ensemble/in.devi (108 Cu atoms, 1500 K, 4 models, out_freq 5, atomic) and
# dumps its trajectory with full precision; LAMMPS (`lmp` of the bench venv, deepmd-kit[cpu,lmp]==3.2.0)
# re-evaluates those frames with `rerun` and the same ensemble as frozen .pb graphs (converted from
# the .dp files with `dp convert-backend`); the two model_devi.out files are compared column by column.
# (Comparing two independent MD runs would compare two trajectories, not the deviation.)
# Usage: tools/crosscheck_model_devi_lammps.sh [VENV (default ~/.cache/tessera-bench/venv)]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$HOME/.cache/tessera-bench/venv}
bin=${TESSERA_BIN:-$repo/.build/release/tessera}
export OMP_NUM_THREADS=1 DP_INTRA_OP_PARALLELISM_THREADS=1 DP_INTER_OP_PARALLELISM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
m=$repo/inputs/models
models=("$m/cu_se_e2_a/cu_se_e2_a.dp" "$m/cu_ensemble/cu_ens1.dp" "$m/cu_ensemble/cu_ens2.dp" "$m/cu_ensemble/cu_ens3.dp")
graphs=()
for model in "${models[@]}"; do
  graph=$(basename "${model%.dp}").pb
  "$venv/bin/dp" convert-backend "$model" "$graph" > /dev/null 2>&1
  graphs+=("$graph")
done
sed 's#^fix             1 all nve#fix             1 all nve\ndump            2 all custom 5 traj.lammpstrj id type x y z\ndump_modify     2 format float %.17g#' \
  "$repo/inputs/cu_ensemble/in.devi" > in.tessera
"$bin" run in.tessera -var models "$m" -var out tessera_devi.out --log none > tessera.log
cat > in.rerun <<DECK
units metal
boundary p p p
atom_style atomic
lattice fcc 3.615
region box block 0 3 0 3 0 3
create_box 1 box
mass 1 63.546
pair_style deepmd ${graphs[*]} out_freq 5 out_file lammps_devi.out atomic
pair_coeff * * Cu
neighbor 2.0 bin
rerun traj.lammpstrj dump x y z box yes add yes
DECK
"$venv/bin/lmp" -in in.rerun > lammps.log 2>&1
cmp -s <(head -1 tessera_devi.out) <(head -1 lammps_devi.out) && echo "headers identical" || echo "HEADERS DIFFER"
python3 - <<'PY'
import numpy as np
a, b = np.loadtxt("lammps_devi.out"), np.loadtxt("tessera_devi.out")
assert a.shape == b.shape, (a.shape, b.shape)
d = np.abs(a - b)
big = np.abs(a) > 1e-10
print(f"{a.shape[0]} rows x {a.shape[1]} columns; largest |difference| {d.max():.3e}; "
      f"largest relative difference where |value| > 1e-10: {(d[big] / np.abs(a[big])).max():.3e} "
      "(the files print 7 significant digits)")
PY
