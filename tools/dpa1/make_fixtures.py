#!/usr/bin/env python3
"""Train tiny DPA-1 (se_atten_v2) models with DeePMD-kit's PyTorch backend and write their
reference values, for Tessera's DPA-1 evaluator tests.

Usage (a venv under .build/, not committed; see README.md beside this script):
    python3 -m venv .build/dpa1venv
    .build/dpa1venv/bin/pip install torch==2.13.0+cpu deepmd-kit==3.2.0 ase==3.29.0 h5py e3nn mpich
    OMP_NUM_THREADS=1 .build/dpa1venv/bin/python tools/dpa1/make_fixtures.py [--steps 300]

For each model of DPA1_OPTIONS (inputs/models/cuag_se_atten_v2_l0/, _l2/: attn_layer 0 and 2;
cuag_se_atten_concat/: concat mode, non-smooth attention) it writes
NAME.dp, input.json, fixtures/configs.xyz, fixtures/reference.xyz and fixtures/summary.json in
the layout of the se_e2_a fixtures (inputs/models/README.md).

DeePMD-kit 3.2.0's wheel carries a custom-op library built against PyTorch 2.11; with 2.13 its
loader raises. Training, freezing and DeepPot evaluation of these models need no custom op,
so every DeePMD-kit call runs with the library directory pointed elsewhere (`PATCH`), which
makes `deepmd.pt.cxx_op` report that there is no op library.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "DP_INTRA_OP_PARALLELISM_THREADS", "DP_INTER_OP_PARALLELISM_THREADS"):
    os.environ[variable] = "1"

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
TYPE_MAP = ["Cu", "Ag"]
LATTICE = {"Cu": 3.615, "Ag": 4.09}
RCUT, RCUT_SMTH, SEL = 5.0, 0.5, 60
PATCH = "import pathlib, deepmd.env; deepmd.env.SHARED_LIB_DIR = pathlib.Path('/nonexistent')"


def dp(*args: str, cwd: Path) -> None:
    """`dp ARGS` in a fresh interpreter without the op library; its log only on failure."""
    code = f"{PATCH}\nimport sys\nfrom deepmd.main import main\nmain(sys.argv[1:])"
    run = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"dp {' '.join(args)} failed:\n{run.stdout[-4000:]}{run.stderr[-4000:]}")


def alloy_cell(rng, cells: int, silver: float, scale: float, strain: float, shake: float):
    """fcc cells×cells×cells, each site Ag with probability `silver`, Vegard's lattice constant
    times `scale`, a random symmetric strain of up to `strain` and gaussian displacements."""
    from ase.build import bulk

    atoms = bulk("Cu", "fcc", a=1.0, cubic=True).repeat(cells)
    symbols = np.where(rng.random(len(atoms)) < silver, "Ag", "Cu")
    atoms.set_chemical_symbols(symbols.tolist())
    fraction = np.mean(symbols == "Ag")
    a0 = (1 - fraction) * LATTICE["Cu"] + fraction * LATTICE["Ag"]
    e = rng.uniform(-strain, strain, (3, 3))
    deformation = np.eye(3) + (e + e.T) / 2
    atoms.set_cell(atoms.cell.array * a0 * scale @ deformation, scale_atoms=True)
    atoms.positions += rng.normal(0, shake, atoms.positions.shape)
    return atoms


def training_data(folder: Path, rng, frames: int) -> None:
    """EMT-labelled frames as a DeePMD-kit npy system: 32-atom alloys (0–100 % Ag), strained
    ±3 %, scaled 0.92–1.04, displaced 0.03–0.15 Å."""
    from ase.calculators.emt import EMT

    coords, cells, energies, forces, virials = [], [], [], [], []
    types = None
    for _ in range(frames):
        atoms = alloy_cell(rng, 2, rng.uniform(0, 1), rng.uniform(0.92, 1.04), 0.03, rng.uniform(0.03, 0.15))
        # one system needs one type vector: sort the atoms by type, pad compositions by frame
        order = np.argsort([TYPE_MAP.index(s) for s in atoms.get_chemical_symbols()], kind="stable")
        atoms = atoms[order]
        atoms.calc = EMT()
        frame_types = np.array([TYPE_MAP.index(s) for s in atoms.get_chemical_symbols()])
        coords.append(atoms.positions.reshape(-1))
        cells.append(atoms.cell.array.reshape(-1))
        energies.append(atoms.get_potential_energy())
        forces.append(atoms.get_forces().reshape(-1))
        virials.append((-atoms.get_volume() * atoms.get_stress(voigt=False)).reshape(-1))
        # DeePMD-kit's mixed-type system format: per-frame real_atom_types
        types = frame_types if types is None else np.vstack([types, frame_types])
    system = folder / "set.000"
    system.mkdir(parents=True)
    for name, values in (("coord", coords), ("box", cells), ("energy", energies), ("force", forces),
                         ("virial", virials)):
        np.save(system / f"{name}.npy", np.array(values))
    np.save(system / "real_atom_types.npy", np.array(types).reshape(frames, -1))
    (folder / "type.raw").write_text("\n".join(["0"] * 32) + "\n")
    (folder / "type_map.raw").write_text("\n".join(TYPE_MAP) + "\n")


# The models: se_atten_v2 (strip, smooth) without and with attention layers, and se_atten in
# concat mode with the non-smooth attention, neither dot-product gate nor normalisation, and the
# one-sided type embedding input.
DPA1_OPTIONS = {
    "cuag_se_atten_v2_l0": {"type": "se_atten_v2", "attn_layer": 0},
    "cuag_se_atten_v2_l2": {"type": "se_atten_v2", "attn_layer": 2},
    "cuag_se_atten_concat": {"type": "se_atten", "attn_layer": 2, "tebd_input_mode": "concat",
                             "smooth_type_embedding": False, "attn_dotr": False, "normalize": False,
                             "type_one_side": True},
}


def dpa1_models(frames: list) -> dict:
    """name -> descriptor of each DPA-1 model (the configurations are not needed: sel is fixed)."""
    del frames
    models = {}
    for name, options in DPA1_OPTIONS.items():
        descriptor = {
            "rcut": RCUT, "rcut_smth": RCUT_SMTH, "sel": SEL, "neuron": [8, 16, 32], "axis_neuron": 4,
            "tebd_dim": 8, "attn": 16, "attn_dotr": True, "precision": "float64", "seed": 1,
        }
        descriptor.update(options)
        models[name] = descriptor
    return models


def with_parameters(data: Path, out: Path, frame_count: int, atom_count: int) -> None:
    """A copy of the npy system `data` whose labels depend on "electronic temperatures" t (per frame,
    uniform in [0, 1), from their own seeded generator so that the frames stay those of `data`): E, F
    and the virial scaled by 1 + 0.3·t₀ + 0.1·t₁ and E shifted by N·(0.05·t₁ − 0.2·t₀), with t as
    fparam.npy (the first `frame_count`) and aparam.npy (the first `atom_count`, the same for every
    atom), as DP-GEN trains on the electronic temperature."""
    import shutil

    shutil.copytree(data, out)
    system = out / "set.000"
    energy = np.load(system / "energy.npy")
    frames, atoms = len(energy), np.load(system / "coord.npy").shape[1] // 3
    t = np.random.default_rng(20261206).uniform(0, 1, (frames, max(frame_count, atom_count, 2)))
    scale = 1 + 0.3 * t[:, 0] + 0.1 * t[:, 1]
    np.save(system / "energy.npy", scale * energy + atoms * (0.05 * t[:, 1] - 0.2 * t[:, 0]))
    for name in ("force", "virial"):
        np.save(system / f"{name}.npy", scale[:, None] * np.load(system / f"{name}.npy"))
    if frame_count:
        np.save(system / "fparam.npy", t[:, :frame_count])
    if atom_count:
        np.save(system / "aparam.npy", np.tile(t[:, :atom_count], (1, atoms)))


def parameter_values(k: int, count: int) -> list | None:
    """The fparam (or aparam) of reference frame k: different per frame, inside and beyond the training range."""
    return [round(0.3 + 0.37 * ((k + 2 * j) % 4) - 0.1 * j, 4) for j in range(count)] if count else None


def training_input(descriptor: dict, data: Path, steps: int, fitting: dict | None = None) -> dict:
    return {
        "model": {
            "type_map": TYPE_MAP,
            "descriptor": descriptor,
            "fitting_net": {"neuron": [32, 32], "resnet_dt": True, "precision": "float64", "seed": 1, **(fitting or {})},
        },
        "learning_rate": {"type": "exp", "start_lr": 1e-3, "stop_lr": 1e-4, "decay_steps": 50},
        "loss": {"type": "ener", "start_pref_e": 0.02, "limit_pref_e": 1, "start_pref_f": 1000,
                 "limit_pref_f": 1, "start_pref_v": 0.02, "limit_pref_v": 1},
        "training": {
            "training_data": {"systems": [str(data)], "batch_size": 1},
            "numb_steps": steps, "disp_freq": 100, "save_freq": steps, "seed": 1,
        },
    }


def configurations(rng) -> list:
    """The seven test configurations of the se_e2_a fixtures, at a size that keeps files small."""
    from ase import Atoms
    from ase.build import bulk
    from ase.cluster import Icosahedron

    a0 = 3.75
    frames = []

    lattice = bulk("Cu", "fcc", a=a0, cubic=True).repeat(2)
    symbols = lattice.get_chemical_symbols()
    for k in range(len(lattice)):
        # L1_2 Cu3Ag: the cube corners are Ag
        if np.allclose(lattice.positions[k] % a0, 0):
            symbols[k] = "Ag"
    lattice.set_chemical_symbols(symbols)
    frames.append(("perfect_lattice", lattice))

    frames.append(("thermal", alloy_cell(rng, 2, 0.5, 1.0, 0.0, 0.10)))

    tilted = alloy_cell(rng, 2, 0.4, 1.0, 0.0, 0.05)
    h = tilted.cell.array.copy()
    h[1, 0], h[2, 0], h[2, 1] = 0.6, -0.4, 0.5
    tilted.set_cell(h, scale_atoms=True)
    frames.append(("strained_triclinic", tilted))

    small = alloy_cell(rng, 1, 0.5, 1.0, 0.0, 0.05)
    small.set_chemical_symbols(["Cu", "Ag", "Cu", "Ag"])
    frames.append(("small_box_4atoms", small))

    primitive = bulk("Cu", "fcc", a=a0) * (2, 1, 1)
    primitive.set_chemical_symbols(["Cu", "Ag"])
    primitive.positions += rng.normal(0, 0.05, primitive.positions.shape)
    frames.append(("tiny_triclinic_2atoms", primitive))

    cluster = Icosahedron("Cu", noshells=3, latticeconstant=a0)
    cluster.set_chemical_symbols(np.where(rng.random(len(cluster)) < 0.4, "Ag", "Cu").tolist())
    cluster.positions += rng.normal(0, 0.05, cluster.positions.shape)
    frames.append(("cluster_nopbc", Atoms(cluster.get_chemical_symbols(), cluster.positions, pbc=False)))

    frames.append(("dense_over_sel", alloy_cell(rng, 2, 0.5, 0.80 * a0 / 3.85, 0.0, 0.05)))

    out = []
    for name, atoms in frames:
        atoms.info = {"config": name}
        out.append(atoms)
    return out


def write_full_precision_extxyz(path: Path, frames: list) -> None:
    """ASE's extended XYZ writer with every per-atom real written so that it reads back exactly."""
    import ase.io
    import ase.io.extxyz

    column_format = ase.io.extxyz.output_column_format

    def full_precision(*args, **kwargs):
        comment, ncols, dtype, fmt = column_format(*args, **kwargs)
        return comment, ncols, dtype, fmt.replace("%16.8f", "%s")

    ase.io.extxyz.output_column_format = full_precision
    try:
        ase.io.write(path, frames, format="extxyz")
    finally:
        ase.io.extxyz.output_column_format = column_format


def neighbour_counts(atoms, rcut: float) -> np.ndarray:
    """Per atom, the neighbours of each type within rcut (periodic images included): natoms × ntypes."""
    from ase.neighborlist import neighbor_list

    i, j = neighbor_list("ij", atoms, rcut)
    types = np.array([TYPE_MAP.index(s) for s in atoms.get_chemical_symbols()])
    counts = np.zeros((len(atoms), len(TYPE_MAP)), dtype=int)
    np.add.at(counts, (i, types[j]), 1)
    return counts


def neighbour_summary(atoms, rcut: float, sel) -> dict:
    """The most neighbours within rcut (overall for a mixed-type `sel`, one count; per type for a
    list) and whether some atom has more than sel keeps."""
    counts = neighbour_counts(atoms, rcut)
    if isinstance(sel, int):
        largest = int(counts.sum(axis=1).max())
        return {"rcut": rcut, "sel": sel, "max_neighbours": largest, "exceeds_sel": largest > sel}
    over = bool(np.any(counts.sum(axis=1) > sum(sel)) or np.any(counts > np.array(sel)))
    return {"rcut": rcut, "sel": sel, "max_neighbours": counts.max(axis=0).tolist(), "exceeds_sel": over}


def descriptor_parts(descriptor: dict) -> list:
    """A descriptor's (rcut, sel) pairs: one, or one per part of a hybrid."""
    parts = descriptor["list"] if descriptor["type"] == "hybrid" else [descriptor]
    return [(d["rcut"], d["sel"]) for d in parts]


def reference(model_file: Path, frames: list, out: Path, parts: list = ((RCUT, SEL),), fitting: dict | None = None) -> None:
    """DeepPot(model.pth) in float64 on every frame: reference.xyz and summary.json. `parts`:
    the descriptor's (rcut, sel) pairs, sel one count (mixed types) or one per type. A `fitting`
    with numb_fparam/numb_aparam: each frame is evaluated at its `parameter_values`, stored in its
    info as fparam / aparam (the aparam the same for every atom)."""
    exec(PATCH)
    from ase import Atoms
    import deepmd
    from deepmd.infer import DeepPot

    model = DeepPot(str(model_file))
    type_map = model.get_type_map()
    written, entries = [], []
    for atoms in frames:
        atype = np.array([type_map.index(s) for s in atoms.get_chemical_symbols()])
        cells = atoms.cell.array.reshape(1, 9) if atoms.pbc.all() else None
        k = len(written)
        fparam = parameter_values(k, (fitting or {}).get("numb_fparam", 0))
        aparam = parameter_values(k + 1, (fitting or {}).get("numb_aparam", 0))
        e, f, v, ae, av = model.eval(atoms.positions.reshape(1, -1), cells, atype, atomic=True, fparam=fparam,
                                     aparam=aparam)
        n = len(atoms)
        a = Atoms(atoms.get_chemical_symbols(), atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        a.info = {"energy": float(e.reshape(())), "virial": v.reshape(3, 3), "config": atoms.info["config"]}
        a.info.update({key: np.array(value) for key, value in (("fparam", fparam), ("aparam", aparam)) if value})
        a.arrays["forces"] = f.reshape(n, 3)
        a.arrays["energies"] = ae.reshape(n)
        a.arrays["atom_virial"] = av.reshape(n, 9)
        written.append(a)
        entries.append({
            "config": atoms.info["config"], "natoms": n, "pbc": atoms.pbc.tolist(),
            "energy": float(e.reshape(())), "virial": v.reshape(3, 3).tolist(),
            "max_abs_force": float(np.max(np.abs(f))),
            "neighbours": [neighbour_summary(atoms, rcut, sel) for rcut, sel in parts],
        })
    write_full_precision_extxyz(out / "reference.xyz", written)
    summary = {"model": model_file.name, "deepmd_kit_version": deepmd.__version__, "type_map": type_map,
               "frames": entries, "output": "reference.xyz",
               "precision": "float64 (DeepPot on the PyTorch model, atomic=True)"}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))


def build(models, steps: int, frames_count: int, only: list | None = None, fittings: dict | None = None,
          after=None) -> None:
    """Trains, freezes and converts each model of `models(configurations)` (name -> descriptor;
    those named in `only`, when given) on the EMT data and writes its folder under inputs/models/.
    The data and the configurations come from one seeded generator, so every script that calls
    this sees the same ones. `fittings`: name -> further fitting_net options; numb_fparam /
    numb_aparam there train on `with_parameters` data. `after(name, folder, frames)`, when given,
    runs once a folder is written."""
    rng = np.random.default_rng(20261203)
    with tempfile.TemporaryDirectory(prefix="dp-fixtures-") as tmp:
        work = Path(tmp)
        training_data(work / "data", rng, frames_count)
        frames = configurations(rng)
        for name, descriptor in models(frames).items():
            if only and name not in only:
                continue
            folder = ROOT / "inputs" / "models" / name
            (folder / "fixtures").mkdir(parents=True, exist_ok=True)
            run = work / name
            run.mkdir()
            fitting = (fittings or {}).get(name, {})
            data = work / "data"
            counts = (fitting.get("numb_fparam", 0), fitting.get("numb_aparam", 0))
            if any(counts):
                data = work / f"data_{counts[0]}_{counts[1]}"
                if not data.exists():
                    with_parameters(work / "data", data, *counts)
            config = training_input(descriptor, data, steps, fitting)
            (run / "input.json").write_text(json.dumps(config, indent=1))
            dp("--pt", "train", "input.json", cwd=run)
            dp("--pt", "freeze", "-o", f"{name}.pth", cwd=run)
            dp("convert-backend", f"{name}.pth", str(folder / f"{name}.dp"), cwd=run)
            config["training"]["training_data"]["systems"] = ["(EMT frames made by make_fixtures.py)"]
            (folder / "input.json").write_text(json.dumps(config, indent=1) + "\n")
            write_full_precision_extxyz(folder / "fixtures" / "configs.xyz", frames)
            reference(run / f"{name}.pth", frames, folder / "fixtures", descriptor_parts(descriptor), fitting)
            if after:
                after(name, folder, frames)
            print(f"wrote {folder}")


def main(models=dpa1_models, fittings: dict | None = None, after=None, arguments=None) -> None:
    """`arguments(parser)` adds a script's own options; `after(args)` then gives build's `after`."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--only", nargs="*", help="make only these models (folder names)")
    if arguments:
        arguments(parser)
    args = parser.parse_args()
    build(models, args.steps, args.frames, args.only, fittings, after(args) if after else None)


if __name__ == "__main__":
    main()
