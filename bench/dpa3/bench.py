"""DPA-3 benchmark: LAMMPS + DeePMD-kit (PyTorch) against Tessera on fcc copper.

Started by bench/dpa3/run.sh (which makes the venv); standard library only, with the run machinery
of bench/dp/bench.py (`execute`, `parse`, `machine`, `loadavg`, `thread_env`, `measure_peak`,
`fcc_neighbours`). The model is built into the cache by tools/dpa3/make_bench_model.py (run by
the venv's Python) and converted to `.pth` by the venv's `dp convert-backend`. For every size and
rank count both codes run the same deck REPEATS times, the order swapped on every repeat, and the
best loop time of each is kept; both must give the same step-0 potential energy (1e-8 relative).
Then Tessera's max RSS on one rank (`run 0`) at --memory-sizes gives the memory per atom (a
straight-line fit, extrapolated to 100,000 atoms). The report, bench/dpa3/RESULTS.md, gives
s/step/atom, LAMMPS / Tessera, each run's CPU share and the load average (a shared 2-vCPU machine),
the node-feature halo's bytes per step per layer on 2 ranks, and Tessera's rate as % of the
measured FP64 peak.
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
import bench as dp_bench  # noqa: E402  (bench/dp/bench.py)

TOOL = REPO / "tools" / "dpa3" / "make_bench_model.py"
NAME = "cu_dpa3_bench"
LATTICE = 3.615
SKIN = 2.0  # the metal-units neighbour skin both codes default to
TARGET_ATOMS, TARGET_BYTES_PER_ATOM = 100_000, 20_000  # issue 19


def deck(model: str, cells: int, steps: int) -> str:
    return f"""units metal
atom_style atomic
lattice fcc {LATTICE}
region box block 0 {cells} 0 {cells} 0 {cells}
create_box 1 box
create_atoms 1 box
mass 1 63.546
pair_style deepmd {model}
pair_coeff * * Cu
velocity all create 300 12345
fix 1 all nve
thermo_style custom step temp pe etotal press
thermo_modify format float %.15g
thermo {max(steps, 1)}
run {steps}
"""


def model(venv: Path, cache: Path, env: dict) -> tuple[Path, Path, dict]:
    """The bench model (.dp, trained by the venv), its .pth and its input.json, cached by the tool's hash."""
    folder = cache / "dpa3" / f"{NAME}-{dp_bench.sha256(TOOL)}"
    dp_file, pth = folder / f"{NAME}.dp", folder / f"{NAME}.pth"
    if not dp_file.exists():
        print(f"training {dp_file} (a few steps) ...", flush=True)
        run = subprocess.run([str(venv / "bin" / "python3"), str(TOOL), str(folder)], capture_output=True, text=True,
                             env=env)
        if run.returncode != 0:
            sys.exit(f"{TOOL} failed:\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
    if not pth.exists():
        run = subprocess.run([str(venv / "bin" / "dp"), "convert-backend", str(dp_file), str(pth)],
                             capture_output=True, text=True, env=env)
        if run.returncode != 0:
            sys.exit(f"dp convert-backend {dp_file} failed:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return dp_file, pth, json.loads((folder / "input.json").read_text())["model"]


def flops_per_atom(repflow: dict, fitting: list[int], edges: int, angle_neighbours: int) -> float:
    """Multiply-adds × 2 of Tessera's products per atom and step (elementwise work not counted):
    per layer the forward (node_j's and node_i's blocks of the two edge maps, their edge block over
    the edges, the node self and symmetric maps, the moments, the angle maps' node/edge blocks per
    angle neighbour and angle block per pair, the edge–angle map), the backward's recomputation of
    it and its transposed products (twice the forward's), so 3× the forward; the fitting forward and
    backward."""
    nd, ne, na, axis = repflow["n_dim"], repflow["e_dim"], repflow["a_dim"], repflow["axis_neuron"]
    rate = repflow.get("a_compress_rate", 0)
    nc = nd // (2 * rate) if rate else nd
    ec = ne // (2 * rate) * repflow.get("a_compress_e_rate", 1) if rate else ne
    pairs = angle_neighbours ** 2
    edge_maps = 2 * nd * (nd + ne) + edges * ne * (nd + ne)
    node_maps = nd * nd + axis * (nd + ne) * nd + 3 * edges * (nd + ne)
    angle_maps = nc * (ne + na) + 2 * angle_neighbours * ec * (ne + na) + pairs * na * (ne + na) + pairs * ne
    edge_angle = edges * ne * ne
    layer = 2 * (edge_maps + node_maps + angle_maps + edge_angle)
    widths = [nd] + fitting + [1]
    fit = 2 * 2 * sum(a * b for a, b in zip(widths, widths[1:]))
    return repflow["nlayers"] * 3 * layer + fit


def halo_bytes_per_layer(cells: int, nd: int, cutoff: float) -> float:
    """Bytes of node features each rank receives per layer on 2 ranks (slabs along one axis): the
    atoms within cut-off + skin beyond both faces (a shell deeper than the other rank's slab reaches
    on through it, in a second hop), nd doubles each; the backward pass sends as many back (reverse
    sum). From the geometry of the ideal lattice, not counted in the run."""
    edge = cells * LATTICE
    atoms = 2 * edge * edge * (cutoff + SKIN) * 4 / LATTICE ** 3
    return atoms * nd * 8


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--sizes", default="4,5", help="fcc cells per edge (4: 256 atoms, 5: 500, 8: 2,048)")
    parser.add_argument("--ranks", default="1,2")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--memory-sizes", default="4,6,8", help="cells per edge of the one-rank `run 0` RSS fit")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--report-from", type=Path, help="write the report from LOGDIR's rows.json and memory.json")
    args = parser.parse_args()
    if args.report_from:
        memory_file = args.report_from / "memory.json"
        memory = json.loads(memory_file.read_text()) if memory_file.exists() else []
        folder = next((args.cache / "dpa3").glob(f"{NAME}-{dp_bench.sha256(TOOL)}"))
        config = json.loads((folder / "input.json").read_text())["model"]
        write_report(args, json.loads((args.report_from / "rows.json").read_text()), memory, config, args.report_from)
        return

    dp_bench.wait_for_tessera()
    cuda_runtime = next((args.venv / "lib").glob("python3*/site-packages/nvidia/cuda_runtime/lib"))
    base = dp_bench.thread_env(dict(os.environ, CUDA_VISIBLE_DEVICES=""))
    base["LD_LIBRARY_PATH"] = f"{cuda_runtime}:{base.get('LD_LIBRARY_PATH', '')}"
    dp_file, pth, config = model(args.venv, args.cache, base)
    lmp = json.loads(dp_bench.venv_helper(args.venv, "lmp-env", env=base))
    lammps_env = dp_bench.thread_env(lmp["env"])
    lammps_env["CUDA_VISIBLE_DEVICES"] = ""
    lammps_env["LD_LIBRARY_PATH"] = f"{cuda_runtime}:{lammps_env.get('LD_LIBRARY_PATH', '')}"
    mpich = str(args.venv / "bin" / "mpirun")
    ompi = shutil.which("mpirun")
    tessera_env = dp_bench.thread_env(dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                                           OMPI_MCA_rmaps_base_oversubscribe="1"))
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = args.cache / "logs" / f"dpa3-{stamp}"
    logs.mkdir(parents=True)
    # The commit the runs were taken at (the report may be written later, from the logs).
    (logs / "commit.txt").write_text(subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                                    capture_output=True, text=True).stdout)
    rows = []
    for cells in map(int, args.sizes.split(",")):
        for ranks in map(int, args.ranks.split(",")):
            work = logs / f"{cells}-{ranks}"
            work.mkdir()
            (work / "in.lammps").write_text(deck(str(pth), cells, args.steps))
            (work / "in.tessera").write_text(deck(str(dp_file), cells, args.steps))
            commands = {
                "lammps": ([mpich, "-np", str(ranks), lmp["binary"], "-in", "in.lammps", "-log", "none"], lammps_env),
                "tessera": ([ompi, "-np", str(ranks), "--bind-to", "none", str(dp_bench.TESSERA), "run", "in.tessera",
                             "--log", "none"], tessera_env),
            }
            best = dp_bench.alternating_best(commands, work, args.repeats, ranks, f"{cells}³ cells, {ranks} ranks")
            rows.append({"cells": cells, "ranks": ranks, **dp_bench.comparison_row(best, args.steps)})
            print(rows[-1], flush=True)
            (logs / "rows.json").write_text(json.dumps(rows, indent=1))
    memory = []
    for cells in map(int, args.memory_sizes.split(",")):
        work = logs / f"memory-{cells}"
        work.mkdir()
        (work / "in.tessera").write_text(deck(str(dp_file), cells, 0))
        run = dp_bench.execute([str(dp_bench.TESSERA), "run", "in.tessera", "--log", "none"], tessera_env, work,
                               work / "tessera.log")
        if run["status"] != "ok":
            sys.exit(f"memory run at {cells}³ cells: {run['status']} (log {work})")
        memory.append({"atoms": 4 * cells ** 3, "rss": run["peak_rss"]})
        print(memory[-1], flush=True)
    (logs / "memory.json").write_text(json.dumps(memory, indent=1))
    write_report(args, rows, memory, config, logs)
    if not all(r["agree"] for r in rows):
        sys.exit(1)


def write_report(args, rows: list, memory: list, config: dict, logs: Path) -> None:
    repflow = config["descriptor"]["repflow"]
    facts = dp_bench.machine()
    peak = dp_bench.measure_peak(args.cache)
    edges = dp_bench.fcc_neighbours(LATTICE, repflow["e_rcut"])
    angles = min(dp_bench.fcc_neighbours(LATTICE, repflow["a_rcut"]), repflow["a_sel"])
    flops = flops_per_atom(repflow, config["fitting_net"]["neuron"], edges, angles)
    commit = (logs / "commit.txt").read_text().strip()
    lines = [
        "# DPA-3 benchmark (bench/dpa3/run.sh)", "",
        f"Taken {datetime.date.today()} at commit {commit} on {facts['cpu']} ({facts['nproc']} vCPUs, "
        f"{facts['memory_gib']:.0f} GiB), `bench/dpa3/run.sh --sizes {args.sizes} --ranks {args.ranks} "
        f"--repeats {args.repeats} --steps {args.steps}`: LAMMPS 22 Jul 2025 + DeePMD-kit 3.2.0 (PyTorch 2.11 on "
        "the CPU, one thread per rank, MPICH) against Tessera (Open MPI), fcc Cu (a 3.615 Å, 300 K velocities) "
        "in NVE, best of the repeats, the codes alternating. Model: tools/dpa3/make_bench_model.py "
        f"({repflow['nlayers']} repflow layers, n/e/a {repflow['n_dim']}/{repflow['e_dim']}/{repflow['a_dim']}, "
        f"e_rcut {repflow['e_rcut']} (e_sel {repflow['e_sel']}), a_rcut {repflow['a_rcut']} (a_sel {repflow['a_sel']}), "
        f"fitting {config['fitting_net']['neuron']}; {edges} edges and {angles} angle neighbours per atom). "
        "The machine is shared with other builds: CPU share is the run's user + system time over wall time × "
        "ranks, compare ratios only between rows of similar shares; the figures are rough. PE₀: step-0 "
        "potential energy, LAMMPS / Tessera.", "",
        f"Measured peak of one core (bench/dp/peak.c): FMA FP64 {peak.get('fma_f64', float('nan')):.1f} GFLOP/s, "
        f"OpenBLAS dgemm {peak.get('dgemm', float('nan')):.1f} GFLOP/s. Tessera's products: {flops / 1e6:.0f} MFLOP "
        "per atom and step (bench/dpa3/bench.py `flops_per_atom`).", "",
        "| atoms | ranks | LAMMPS s/step/atom | Tessera s/step/atom | LAMMPS / Tessera | Tessera % FP64 peak | "
        "halo bytes/step/layer (per rank, each way) | CPU share L / T | load | PE₀ agree (1e-8) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for r in rows:
        rate = flops / (r["tessera"] * r["ranks"]) / 1e9  # per core
        halo = f"{halo_bytes_per_layer(r['cells'], repflow['n_dim'], repflow['e_rcut']):,.0f}" if r["ranks"] == 2 else "—"
        lines.append(f"| {r['atoms']} | {r['ranks']} | {r['lammps']:.3g} | {r['tessera']:.3g} | "
                     f"{r['lammps'] / r['tessera']:.2f} | {100 * rate / peak['fma_f64']:.0f} % | {halo} | "
                     f"{r['cpu'][0]:.2f} / {r['cpu'][1]:.2f} | {r['load']:.1f} | "
                     f"{'yes' if r['agree'] else 'NO ' + str(r['pe'])} |")
    lines += ["", "Halo: node features (n_dim doubles per ghost) forwarded after every layer and reverse-summed "
              "in the backward pass; counted from the slab geometry (the other rank's atoms within e_rcut + skin "
              "of both faces), not measured in the run.", ""]
    if len(memory) >= 2:
        (a0, r0), (a1, r1) = (memory[0]["atoms"], memory[0]["rss"]), (memory[-1]["atoms"], memory[-1]["rss"])
        slope = (r1 - r0) / (a1 - a0)
        lines += ["Memory: Tessera's max RSS, one rank, `run 0` (forces included):", "",
                  "| atoms | max RSS (MiB) | per atom (KB) |", "| ---: | ---: | ---: |"]
        lines += [f"| {m['atoms']} | {m['rss'] / 2**20:.0f} | {m['rss'] / m['atoms'] / 1e3:.0f} |" for m in memory]
        at_target = r1 + slope * (TARGET_ATOMS - a1)
        lines += ["", f"Slope between {a0} and {a1} atoms: {slope / 1e3:.0f} KB per atom; extrapolated to "
                  f"{TARGET_ATOMS:,} atoms: {at_target / 2**30:.1f} GiB, {at_target / TARGET_ATOMS / 1e3:.0f} KB per "
                  f"atom (target ≤ {TARGET_BYTES_PER_ATOM / 1e3:.0f} KB).", ""]
    lines += [f"Raw logs: {logs}.", ""]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
