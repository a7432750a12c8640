"""DPA-1 benchmark: LAMMPS + DeePMD-kit (PyTorch) against Tessera on a Cu–Ag solid solution.

Started by bench/dpa1/run.sh (which makes the venv); standard library only, with the run
machinery of bench/dp/bench.py (`execute`, `parse`, the machine facts). For every case (model,
variant, size, ranks) both codes run the same deck REPEATS times, the order swapped on every
repeat, and the best loop time of each is kept; both must give the same step-0 potential energy
(1e-8 relative; Tessera's tables built at load are compared with LAMMPS's plain model). The
report, bench/dpa1/RESULTS.md, gives s/step/atom, LAMMPS / Tessera, each run's CPU share and the
load average, since this harness is often run on a shared 2-vCPU machine.
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench" / "dp"))
import bench as dp_bench  # noqa: E402  (bench/dp/bench.py: execute, parse, machine, loadavg, thread_env)

MODELS = REPO / "inputs" / "models"
MIN_NBOR_DIST = 1.7621374377200272  # cuag_se_atten_v2_l0_compressed's (the training data's)
# name -> (LAMMPS's model folder, Tessera's model folder, Tessera's extra pair_style words)
CASES = {
    "l0 plain": ("cuag_se_atten_v2_l0", "cuag_se_atten_v2_l0", ""),
    "l0 compressed": ("cuag_se_atten_v2_l0_compressed", "cuag_se_atten_v2_l0_compressed", ""),
    "l2 plain": ("cuag_se_atten_v2_l2", "cuag_se_atten_v2_l2", ""),
    "l2 tables built by Tessera": ("cuag_se_atten_v2_l2", "cuag_se_atten_v2_l2", f"compress min_nbor_dist {MIN_NBOR_DIST}"),
}


def deck(model: str, extra: str, cells: int, steps: int) -> str:
    return f"""units metal
atom_style atomic
lattice fcc 3.85
region box block 0 {cells} 0 {cells} 0 {cells}
create_box 2 box
create_atoms 1 box
set type 1 type/fraction 2 0.5 12345
mass 1 63.546
mass 2 107.8682
pair_style deepmd {model} {extra}
pair_coeff * * Cu Ag
velocity all create 300 12345
fix 1 all nve
thermo_style custom step temp pe etotal press
thermo_modify format float %.15g
thermo {steps}
run {steps}
"""


def pth(venv: Path, cache: Path, name: str, env: dict) -> Path:
    """The model as a PyTorch file (`dp convert-backend`), cached by the .dp's hash."""
    source = MODELS / name / f"{name}.dp"
    target = cache / "pth" / f"{name}-{dp_bench.sha256(source)}.pth"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        run = subprocess.run([str(venv / "bin" / "dp"), "convert-backend", str(source), str(target)],
                             capture_output=True, text=True, env=env)
        if run.returncode != 0:
            sys.exit(f"dp convert-backend {source} failed:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--sizes", default="6,10", help="fcc cells per edge (6: 864 atoms, 10: 4,000)")
    parser.add_argument("--ranks", default="1,2")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()

    dp_bench.wait_for_tessera()
    cuda_runtime = next((args.venv / "lib").glob("python3*/site-packages/nvidia/cuda_runtime/lib"))
    base = dp_bench.thread_env(dict(os.environ, CUDA_VISIBLE_DEVICES=""))
    lmp = json.loads(dp_bench.venv_helper(args.venv, "lmp-env", env=base))
    lammps_env = dp_bench.thread_env(lmp["env"])
    lammps_env["CUDA_VISIBLE_DEVICES"] = ""
    lammps_env["LD_LIBRARY_PATH"] = f"{cuda_runtime}:{lammps_env.get('LD_LIBRARY_PATH', '')}"
    mpich = str(args.venv / "bin" / "mpirun")
    ompi = shutil.which("mpirun")
    tessera_env = dp_bench.thread_env(dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                                           OMPI_MCA_rmaps_base_oversubscribe="1"))
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = args.cache / "logs" / f"dpa1-{stamp}"
    logs.mkdir(parents=True)
    rows = []
    for case, (lammps_model, tessera_model, extra) in CASES.items():
        model_pth = pth(args.venv, args.cache, lammps_model, lammps_env)
        for cells in map(int, args.sizes.split(",")):
            for ranks in map(int, args.ranks.split(",")):
                work = logs / f"{case.replace(' ', '_')}-{cells}-{ranks}"
                work.mkdir()
                (work / "in.lammps").write_text(deck(str(model_pth), "", cells, args.steps))
                (work / "in.tessera").write_text(deck(str(MODELS / tessera_model / f"{tessera_model}.dp"), extra,
                                                      cells, args.steps))
                commands = {
                    "lammps": ([mpich, "-np", str(ranks), lmp["binary"], "-in", "in.lammps", "-log", "none"], lammps_env),
                    "tessera": ([ompi, "-np", str(ranks), "--bind-to", "none", str(dp_bench.TESSERA), "run", "in.tessera",
                                 "--log", "none"], tessera_env),
                }
                best = dp_bench.alternating_best(commands, work, args.repeats, ranks, f"{case}, {cells}³ cells, {ranks} ranks")
                rows.append({"case": case, "ranks": ranks, **dp_bench.comparison_row(best, args.steps)})
                print(rows[-1], flush=True)
                (logs / "rows.json").write_text(json.dumps(rows, indent=1))
    facts = dp_bench.machine()
    lines = [
        "# DPA-1 benchmark (bench/dpa1/run.sh)", "",
        f"Taken {datetime.date.today()} on {facts['cpu']} ({facts['nproc']} vCPUs, {facts['memory_gib']:.0f} GiB), "
        f"`bench/dpa1/run.sh --sizes {args.sizes} --ranks {args.ranks} --repeats {args.repeats} --steps {args.steps}`: "
        "LAMMPS 22 Jul 2025 + DeePMD-kit 3.2.0 (PyTorch 2.11 on the CPU, one thread per rank, MPICH) against "
        "Tessera (Open MPI), a Cu–Ag solid solution (fcc, a 3.85 Å, half Ag) in NVE, best of the repeats. "
        "CPU share: the run's user + system time over wall time × ranks (below 1: the machine was shared; "
        "compare ratios only between rows of similar shares). PE₀: step-0 potential energy, LAMMPS / Tessera.", "",
        "| case | atoms | ranks | LAMMPS s/step/atom | Tessera s/step/atom | LAMMPS / Tessera | CPU share L / T | load | PE₀ agree (1e-8) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['atoms']} | {r['ranks']} | {r['lammps']:.3g} | {r['tessera']:.3g} | "
                     f"{r['lammps'] / r['tessera']:.2f} | {r['cpu'][0]:.2f} / {r['cpu'][1]:.2f} | {r['load']:.1f} | "
                     f"{'yes' if r['agree'] else 'NO ' + str(r['pe'])} |")
    lines += ["", "LAMMPS's compressed case is DeePMD-kit's own compressed model (attn_layer 0 only: DeePMD-kit does "
              "not compress attention layers); \"l2 tables built by Tessera\" runs LAMMPS's plain l2 model beside "
              "Tessera's `compress min_nbor_dist " + f"{MIN_NBOR_DIST}` tables. Raw logs: {logs}.", ""]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")
    if not all(r["agree"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
