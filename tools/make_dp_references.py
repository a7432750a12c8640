#!/usr/bin/env python3
"""Regenerate a model folder's DeePMD-kit reference values.

Usage:
    python3 -m venv .venv-deepmd && .venv-deepmd/bin/pip install -r tools/requirements-deepmd.txt
    .venv-deepmd/bin/python3 tools/make_dp_references.py inputs/models/cu_se_e2_a [--check]

For the folder inputs/models/NAME/ it reads NAME.dp, input.json and fixtures/configs.xyz,
and writes fixtures/reference.xyz and fixtures/summary.json, or with --check writes them to
a temporary folder, compares them with the stored ones, prints the largest differences and
exits with status 1 if any result differs by more than 1e-12 relative (largest absolute
difference over all frames divided by the largest stored magnitude of that quantity) or any
input or integer field differs at all.

The model that is evaluated:
  * `dp convert-backend NAME.dp NAME.pb` rebuilds the frozen TensorFlow graph; for an
    uncompressed model its results are bit-identical to those of the original .pb.
  * When NAME.dp is compressed (`descriptor.compress` present), that conversion silently
    drops the tables and gives the plain (uncompressed) graph, so the script compresses it
    again with `dp --tf compress`, with the step, extrapolation and check frequency taken from
    the .dp's `compress_info`, which is how the original compressed .pb was made from the
    original uncompressed one. DeePMD-kit 3.2.0's TF compression needs the full training
    input in the graph, while the converted graph records only its "model" section, so
    input.json's other sections are put back into the graph first. (The other direction,
    `dp convert-backend` of the compressed .pb, is broken too: the result lacks the
    embedding nets.)
Then, for each frame, `DeepPot(pb).eval(coords, cells, atype, atomic=True)` in float64,
with `cells` None for a non-periodic frame, on one thread (see below).

summary.json's `deviation_vs` cross-checks are recomputed for:
  * NAME.dp through DeePMD-kit's NumPy backend (energies only: it computes no derivatives,
    so its forces and virials are null);
  * for a compressed model, NAME_uncompressed.pb (the graph before `dp --tf compress`).
The original files also list NAME.yaml and NAME_from_dp.pb; the YAML is not kept in the
repository, and NAME_from_dp.pb is now the reference itself, so both are left out. --check
does not compare `deviation_vs`.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# TensorFlow's multithreaded reductions change the last bits from run to run; on one thread
# the results are reproducible and bit-identical to the stored references. These must be
# set before TensorFlow is loaded, and the `dp` subprocesses inherit them.
for variable in ("OMP_NUM_THREADS", "DP_INTRA_OP_PARALLELISM_THREADS", "DP_INTER_OP_PARALLELISM_THREADS"):
    os.environ[variable] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import ase.io
import ase.io.extxyz
import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

import deepmd
from deepmd.dpmodel.utils.serialization import load_dp_model
from deepmd.infer import DeepPot
from deepmd.tf.env import tf

TOLERANCE = 1e-12

DESCRIPTIONS = {
    "perfect_lattice": "ideal fcc lattice, 3x3x3 cubic cells (108 atoms); L1_2-ordered A3B "
    "for the binaries, random solid solution for the ternary",
    "thermal": "random solid solution (alloys), every atom displaced by a gaussian of 0.10 A "
    "per component (108 atoms)",
    "strained_triclinic": "3x3x3 cells deformed into a lower-triangular triclinic box "
    "(xy, xz, yz tilts nonzero), 0.05 A displacements (108 atoms)",
    "small_box_4atoms": "4-atom cubic cell, edge a0 much shorter than 2*rcut: every atom sees "
    "tens of periodic images of itself and of the other atoms",
    "tiny_triclinic_2atoms": "2-atom cell on the fcc primitive (rhombohedral) vectors, edges "
    "about 2.6 A: the neighbours inside rcut are all periodic images",
    "cluster_nopbc": "55-atom icosahedral cluster, no periodic boundary, 0.05 A displacements",
    "dense_over_sel": "lattice compressed to 0.80 a0 (0.72 a0 for the ternary) so that more "
    "neighbours than sel lie inside rcut for some type; DeePMD-kit keeps the sel nearest of "
    "each type",
}

RESULTS = ("energy", "energies", "forces", "virial", "atom_virial")


def dp(*args: str, cwd: Path) -> None:
    """Run the `dp` command of this interpreter's DeePMD-kit, showing its log only on failure.

    `cwd` is the temporary folder: `dp --tf compress` leaves its control files and a
    checkpoint folder in the working directory.
    """
    run = subprocess.run(
        [sys.executable, "-m", "deepmd", *args], cwd=cwd, capture_output=True, text=True
    )
    if run.returncode != 0:
        sys.exit(f"dp {' '.join(args)} failed:\n{run.stdout}{run.stderr}")


def read_graph(pb: Path):
    graph = tf.compat.v1.GraphDef()
    graph.ParseFromString(pb.read_bytes())
    return graph


def restore_training_script(pb: Path, input_json: Path, out: Path) -> None:
    graph = read_graph(pb)
    node = next(n for n in graph.node if n.name == "train_attr/training_script")
    script = json.loads(node.attr["value"].tensor.string_val[0])
    script.update({k: v for k, v in json.loads(input_json.read_text()).items() if k != "model"})
    node.attr["value"].tensor.string_val[0] = json.dumps(script).encode()
    out.write_bytes(graph.SerializeToString())


def has_tables(pb: Path) -> bool:
    return any(n.op.startswith("TabulateFusion") for n in read_graph(pb).node)


def build_pb(folder: Path, descriptor: dict, work: Path) -> tuple[Path, Path | None]:
    """Return the TF graph to evaluate and, for a compressed model, the graph before compression."""
    name = folder.name
    if "compress" not in descriptor:
        dp("convert-backend", str((folder / f"{name}.dp").resolve()), f"{name}.pb", cwd=work)
        return work / f"{name}.pb", None

    dp("convert-backend", str((folder / f"{name}.dp").resolve()), "plain.pb", cwd=work)
    uncompressed = work / f"{name}_uncompressed.pb"
    restore_training_script(work / "plain.pb", folder / "input.json", uncompressed)
    # One compress_info per embedding net, [lower, upper, upper * extrapolate, step,
    # 10 * step, check frequency]; the last four settings are common to all of them.
    _, upper, extrapolated, step, _, frequency = descriptor["compress"]["@variables"]["compress_info"][0]
    dp(
        "--tf", "compress", "-i", uncompressed.name, "-o", f"{name}.pb",
        "-s", str(float(step)), "-e", str(round(float(extrapolated / upper))), "-f", str(int(frequency)),
        cwd=work,
    )
    if not has_tables(work / f"{name}.pb"):
        sys.exit("dp --tf compress produced a graph without tabulated embedding nets")
    return work / f"{name}.pb", uncompressed


def evaluate(model: DeepPot, frames: list[Atoms]) -> list[dict[str, np.ndarray]]:
    type_map = model.get_type_map()
    results = []
    for atoms in frames:
        if atoms.pbc.any() and not atoms.pbc.all():
            sys.exit(f"{atoms.info['config']}: mixed periodicity is not supported")
        atype = np.array([type_map.index(s) for s in atoms.get_chemical_symbols()])
        cells = atoms.cell.array.reshape(1, 9) if atoms.pbc.all() else None
        e, f, v, ae, av = model.eval(atoms.positions.reshape(1, -1), cells, atype, atomic=True)
        n = len(atoms)
        results.append({
            "energy": e.reshape(()), "forces": f.reshape(n, 3), "virial": v.reshape(3, 3),
            "energies": ae.reshape(n), "atom_virial": av.reshape(n, 9),
        })
    return results


def write_reference(path: Path, frames: list[Atoms], results: list[dict]) -> None:
    out = []
    for atoms, r in zip(frames, results):
        a = Atoms(atoms.get_chemical_symbols(), atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        # info and array insertion order fixes the key and column order of the file;
        # "virial" is an ASE special 3x3 key, written column-major and read back as the matrix.
        a.info = {"energy": float(r["energy"]), "virial": r["virial"], "config": atoms.info["config"]}
        for key in ("forces", "energies", "atom_virial"):
            a.arrays[key] = r[key]
        out.append(a)
    write_full_precision_extxyz(path, out)


def write_full_precision_extxyz(path: Path, frames: list[Atoms]) -> None:
    """ASE's extended XYZ writer, with every per-atom real written so that it reads back exactly."""
    # ASE writes per-atom reals as %16.8f; the references must round-trip exactly, and
    # str() of a NumPy float64 is its shortest round-tripping representation.
    column_format = ase.io.extxyz.output_column_format

    def full_precision(*args, **kwargs):
        comment, ncols, dtype, fmt = column_format(*args, **kwargs)
        return comment, ncols, dtype, fmt.replace("%16.8f", "%s")

    ase.io.extxyz.output_column_format = full_precision
    try:
        ase.io.write(path, frames, format="extxyz")
    finally:
        ase.io.extxyz.output_column_format = column_format


def max_neighbours_per_type(atoms: Atoms, atype: np.ndarray, ntypes: int, rcut: float) -> list[int]:
    """Largest number of neighbours of each type inside rcut (periodic images included)."""
    i, j = neighbor_list("ij", atoms, rcut)
    counts = np.bincount(i * ntypes + atype[j], minlength=len(atoms) * ntypes)
    return counts.reshape(len(atoms), ntypes).max(axis=0).tolist()


def deviation(ref: dict, other: dict) -> dict:
    def largest(key):
        d = float(np.max(np.abs(other[key] - ref[key])))
        return None if np.isnan(d) else d

    return {f"{key}_max_abs": largest(key) for key in RESULTS}


def summary(name: str, model: DeepPot, sel: list[int], frames, results, cross_checks) -> dict:
    type_map, rcut = model.get_type_map(), model.get_rcut()
    entries = []
    for k, (atoms, r) in enumerate(zip(frames, results)):
        atype = np.array([type_map.index(s) for s in atoms.get_chemical_symbols()])
        neighbours = max_neighbours_per_type(atoms, atype, len(type_map), rcut)
        entries.append({
            "config": atoms.info["config"],
            "natoms": len(atoms),
            "pbc": atoms.pbc.tolist(),
            "energy": float(r["energy"]),
            "virial": r["virial"].tolist(),
            "max_abs_force": float(np.max(np.abs(r["forces"]))),
            "max_neighbours_per_type": neighbours,
            "sel": sel,
            "exceeds_sel": any(n > s for n, s in zip(neighbours, sel)),
            "deviation_vs": {label: deviation(r, other[k]) for label, other in cross_checks.items()},
            "description": DESCRIPTIONS[atoms.info["config"]],
        })
    return {
        "model": f"{name}.pb",
        "input": "configs.xyz",
        "deepmd_kit_version": deepmd.__version__,
        "type_map": type_map,
        "rcut": rcut,
        "frames": entries,
        "output": "reference.xyz",
        "precision": "float64 (DeepPot, atomic=True)",
    }


def generate(folder: Path, out: Path, work: Path) -> None:
    name = folder.name
    frames = ase.io.read(folder / "fixtures" / "configs.xyz", index=":")
    descriptor = load_dp_model(str(folder / f"{name}.dp"))["model"]["descriptor"]
    pb, uncompressed = build_pb(folder, descriptor, work)
    model = DeepPot(str(pb))
    results = evaluate(model, frames)

    cross_checks = {f"{name}.dp": evaluate(DeepPot(str(folder / f"{name}.dp")), frames)}
    if uncompressed is not None:
        cross_checks[uncompressed.name] = evaluate(DeepPot(str(uncompressed)), frames)

    write_reference(out / "reference.xyz", frames, results)
    # indent=1 and no final newline: the layout of the stored files
    (out / "summary.json").write_text(
        json.dumps(summary(name, model, descriptor["sel"], frames, results, cross_checks), indent=1)
    )


def read_reference(path: Path) -> list[dict]:
    frames = []
    for a in ase.io.read(path, index=":"):
        frames.append({
            "energy": a.get_potential_energy(), "forces": a.get_forces(),
            "virial": a.info["virial"], "energies": a.get_potential_energies(),
            "atom_virial": a.arrays["atom_virial"], "atoms": a,
        })
    return frames


def compare(stored_dir: Path, new_dir: Path) -> bool:
    old, new = read_reference(stored_dir / "reference.xyz"), read_reference(new_dir / "reference.xyz")
    old_sum = json.loads((stored_dir / "summary.json").read_text())
    new_sum = json.loads((new_dir / "summary.json").read_text())
    ok = len(old) == len(new) == len(old_sum["frames"]) == len(new_sum["frames"])
    if not ok:
        print("different numbers of frames")
        return False

    for o, n in zip(old, new):
        a, b = o["atoms"], n["atoms"]
        same_input = (
            a.info["config"] == b.info["config"] and a.get_chemical_symbols() == b.get_chemical_symbols()
            and np.array_equal(a.positions, b.positions) and np.array_equal(a.cell.array, b.cell.array)
            and np.array_equal(a.pbc, b.pbc)
        )
        if not same_input:
            print(f"frame {a.info['config']}: input structure differs")
            ok = False

    for key in ("type_map", "rcut"):
        if old_sum[key] != new_sum[key]:
            print(f"summary {key}: stored {old_sum[key]}, regenerated {new_sum[key]}")
            ok = False
    for o, n in zip(old_sum["frames"], new_sum["frames"]):
        for key in ("config", "natoms", "pbc", "max_neighbours_per_type", "sel", "exceeds_sel"):
            if o[key] != n[key]:
                print(f"summary {o['config']} {key}: stored {o[key]}, regenerated {n[key]}")
                ok = False

    stored = {key: [f[key] for f in old] for key in RESULTS}
    regenerated = {key: [f[key] for f in new] for key in RESULTS}
    for key, getter in (
        ("energy", lambda f: f["energy"]),
        ("virial", lambda f: np.array(f["virial"])),
        ("max_abs_force", lambda f: f["max_abs_force"]),
    ):
        stored[f"summary {key}"] = [getter(f) for f in old_sum["frames"]]
        regenerated[f"summary {key}"] = [getter(f) for f in new_sum["frames"]]

    print(f"{'quantity':>22} {'max abs diff':>12} {'max |stored|':>12} {'relative':>10}  worst frame")
    for key in stored:
        diffs = [float(np.max(np.abs(np.asarray(n) - np.asarray(o)))) for o, n in zip(stored[key], regenerated[key])]
        scale = max(float(np.max(np.abs(o))) for o in stored[key])
        worst = int(np.argmax(diffs))
        relative = diffs[worst] / scale
        print(f"{key:>22} {diffs[worst]:12.3e} {scale:12.3e} {relative:10.3e}  {old[worst]['atoms'].info['config']}")
        ok &= relative <= TOLERANCE
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="model folder, e.g. inputs/models/cu_se_e2_a")
    parser.add_argument("--check", action="store_true", help="compare with the stored fixtures instead of writing them")
    args = parser.parse_args()

    folder = args.folder.resolve()
    with tempfile.TemporaryDirectory(prefix="dp-references-") as tmp:
        work = Path(tmp)
        if not args.check:
            generate(folder, folder / "fixtures", work)
            print(f"wrote {folder / 'fixtures' / 'reference.xyz'} and summary.json")
            return
        (work / "out").mkdir()
        generate(folder, work / "out", work)
        ok = compare(folder / "fixtures", work / "out")
        print(f"{folder.name}: {'matches' if ok else 'DIFFERS from'} the stored fixtures")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
