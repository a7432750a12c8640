#!/usr/bin/env python3
"""DeePMD-kit references for variants of the DPA-1 fixture models, made by editing the model
document (no training): the options the trained models do not exercise.

Usage (the venv of make_fixtures.py):
    OMP_NUM_THREADS=1 .build/dpa1venv/bin/python tools/dpa1/make_variants.py

Each variant is a list of edits of the `.dp` file's JSON document (a dotted key path and the
JSON value to put there; list items by index), applied to the raw document exactly as the Swift
tests apply them (`ModelEditing.copy`), so that both sides read the same model. The script writes
inputs/models/cuag_dpa1_variants/variants.json (the edits) and, per variant, NAME.xyz: DeePMD-kit's
energy, forces, virial, per-atom energies and virials (PyTorch model from `dp convert-backend`,
float64) on two of the fixture configurations, the 4-atom periodic box and the 55-atom cluster.
It also writes isolated_MODEL.xyz for each fixture model: a cluster of a pair and two atoms with
no neighbour within rcut (every slot padding), DeePMD-kit's values included.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "DP_INTRA_OP_PARALLELISM_THREADS", "DP_INTER_OP_PARALLELISM_THREADS"):
    os.environ[variable] = "1"

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import PATCH, ROOT, dp, write_full_precision_extxyz  # noqa: E402

FRAMES = ("small_box_4atoms", "cluster_nopbc")
D = "model.descriptor"
LAYERS = (0, 1)


def layer(index: int, key: str) -> str:
    return f"{D}.attention_layers.attention_layers.{index}.attention_layer.{key}"


def variants(models: Path) -> dict:
    """name -> (base model, edits). `davg` pointed at the `dstd` dataset makes padding rows
    nonzero (R̂ = −1): the trained models' statistics leave padding rows zero or switched off."""
    def dstd_path(name: str) -> str:
        with h5py.File(models / name / f"{name}.dp") as f:
            return json.loads(f.attrs["json"])["model"]["descriptor"]["@variables"]["dstd"]

    non_smooth_strip = [[f"{D}.type", "dpa1"], [f"{D}.tebd_input_mode", "strip"],
                        [f"{D}.smooth_type_embedding", False]] + [[layer(i, "smooth"), False] for i in LAYERS]
    return {
        # concat, non-smooth: padding slots read the type embedding of atom 0.
        "concat_padding": ("cuag_se_atten_concat", [[f"{D}.@variables.davg", dstd_path("cuag_se_atten_concat")]]),
        # strip, non-smooth: padding slots' type factor is that of (centre, type of atom 0).
        "strip_non_smooth": ("cuag_se_atten_v2_l2",
                             non_smooth_strip + [[f"{D}.@variables.davg", dstd_path("cuag_se_atten_v2_l2")]]),
        "descriptor_exclude": ("cuag_se_atten_v2_l2", [[f"{D}.exclude_types", [[0, 1]]]]),
        "pair_exclude": ("cuag_se_atten_v2_l2", [["model.pair_exclude_types", [[1, 1]]]]),
        "atom_exclude": ("cuag_se_atten_v2_l2", [["model.atom_exclude_types", [1]]]),
        "protection": ("cuag_se_atten_v2_l2", [[f"{D}.env_protection", 0.4]]),
        "temperature_unnormalized": ("cuag_se_atten_v2_l2",
                                     [[layer(i, "temperature"), 0.3] for i in LAYERS]
                                     + [[layer(i, "normalize"), False] for i in LAYERS]),
    }


def edit(document, path: str, value) -> None:
    keys = path.split(".")
    node = document
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def main() -> None:
    models = ROOT / "inputs" / "models"
    write_variants(variants(models), models / "cuag_dpa1_variants",
                   ("cuag_se_atten_v2_l0", "cuag_se_atten_v2_l2", "cuag_se_atten_concat"))


def write_variants(table: dict, out: Path, isolated: tuple) -> None:
    """variants.json and one NAME.xyz of DeePMD-kit's values per variant of `table` in `out`, and
    isolated_MODEL.xyz for each model of `isolated`."""
    exec(PATCH)
    import ase.io
    from ase import Atoms
    from deepmd.infer import DeepPot

    models = ROOT / "inputs" / "models"
    out.mkdir(exist_ok=True)
    (out / "variants.json").write_text(
        json.dumps({name: {"model": base, "edits": edits} for name, (base, edits) in table.items()}, indent=1) + "\n")
    with tempfile.TemporaryDirectory(prefix="dp-variants-") as tmp:
        work = Path(tmp)
        for name, (base, edits) in table.items():
            model_file = work / f"{name}.dp"
            shutil.copy(models / base / f"{base}.dp", model_file)
            with h5py.File(model_file, "r+") as f:
                document = json.loads(f.attrs["json"])
                for path, value in edits:
                    edit(document, path, value)
                f.attrs["json"] = json.dumps(document, separators=(",", ":"))
            dp("convert-backend", model_file.name, f"{name}.pth", cwd=work)
            model = DeepPot(str(work / f"{name}.pth"))
            type_map = model.get_type_map()
            frames = [a for a in ase.io.read(models / base / "fixtures" / "configs.xyz", index=":")
                      if a.info["config"] in FRAMES]
            written = []
            for atoms in frames:
                atype = np.array([type_map.index(s) for s in atoms.get_chemical_symbols()])
                cells = atoms.cell.array.reshape(1, 9) if atoms.pbc.all() else None
                e, f, v, ae, av = model.eval(atoms.positions.reshape(1, -1), cells, atype, atomic=True)
                n = len(atoms)
                a = Atoms(atoms.get_chemical_symbols(), atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
                a.info = {"energy": float(e.reshape(())), "virial": v.reshape(3, 3), "config": atoms.info["config"]}
                a.arrays["forces"] = f.reshape(n, 3)
                a.arrays["energies"] = ae.reshape(n)
                a.arrays["atom_virial"] = av.reshape(n, 9)
                written.append(a)
            write_full_precision_extxyz(out / f"{name}.xyz", written)
            print(f"wrote {out / name}.xyz")
        for base in isolated:
            dp("convert-backend", str(models / base / f"{base}.dp"), f"{base}.pth", cwd=work)
            model = DeepPot(str(work / f"{base}.pth"))
            atoms = Atoms(["Cu", "Ag", "Cu", "Ag"], [[0, 0, 0], [7, 0, 0], [9.5, 0.3, 0], [0, 0.2, 20]], pbc=False)
            atype = np.array([model.get_type_map().index(s) for s in atoms.get_chemical_symbols()])
            e, f, v, ae, av = model.eval(atoms.positions.reshape(1, -1), None, atype, atomic=True)
            a = atoms.copy()
            a.info = {"energy": float(e.reshape(())), "virial": v.reshape(3, 3), "config": "isolated_atoms"}
            a.arrays["forces"] = f.reshape(4, 3)
            a.arrays["energies"] = ae.reshape(4)
            a.arrays["atom_virial"] = av.reshape(4, 9)
            write_full_precision_extxyz(out / f"isolated_{base}.xyz", [a])
            print(f"wrote {out}/isolated_{base}.xyz")


if __name__ == "__main__":
    main()
