#!/usr/bin/env python3
"""DeePMD-kit's own compressed DPA-1 model and its references, for Tessera's compressed DPA-1
tests (`AttentionCompressionTests`).

DeePMD-kit 3.2 compresses a DPA-1 model's geometric embedding only in strip mode with no
attention layer: `DescrptDPA1.enable_compression` (dpmodel) tabulates the embedding network with
`DPTabulate` and precomputes the type-pair strip table. Its PyTorch evaluator of the compressed
model needs the custom-op library (not loadable with torch 2.13, see README.md), so the
references come from the JAX backend, which runs the same dpmodel code (`tabulate_fusion`, C¹
extrapolation) with forces and virials from JAX's derivatives.

For cuag_se_atten_v2_l0 it writes, into inputs/models/cuag_se_atten_v2_l0_compressed/:
  cuag_se_atten_v2_l0_compressed.dp   the compressed model (descriptor @version 3 with its
                                      `compress` block; `min_nbor_dist` at the top level)
  fixtures/configs.xyz                the seven configurations of make_fixtures.py
  fixtures/reference.xyz, summary.json the JAX backend's values on them
`min_nbor_dist` is the nearest neighbour distance of the training data (what `dp compress -t`
takes), recomputed from the same seeded frames as make_fixtures.py.

Usage (the venv of make_fixtures.py, plus `jax[cpu]`, `flax`, `orbax-checkpoint`):
    OMP_NUM_THREADS=1 .build/dpa1venv/bin/python tools/dpa1/make_compressed.py
"""

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import (ROOT, configurations, neighbour_summary, training_data,  # noqa: E402
                           write_full_precision_extxyz, RCUT, SEL)

SOURCE = "cuag_se_atten_v2_l0"
NAME = f"{SOURCE}_compressed"


def nearest_distance(data: Path) -> float:
    """The smallest interatomic distance over every training frame, periodic images included."""
    from ase import Atoms
    from ase.neighborlist import neighbor_list

    system = data / "set.000"
    coords, boxes = np.load(system / "coord.npy"), np.load(system / "box.npy")
    nearest = np.inf
    for coord, box in zip(coords, boxes):
        atoms = Atoms("Cu" * (len(coord) // 3), positions=coord.reshape(-1, 3), cell=box.reshape(3, 3), pbc=True)
        nearest = min(nearest, float(neighbor_list("d", atoms, RCUT).min()))
    return nearest


def jax_reference(document: dict, frames: list, out: Path) -> None:
    """The compressed model's energy, forces, virial and per-atom values from DeePMD-kit's JAX
    backend on every frame, with the neighbour list DeePMD-kit builds (nearest Σsel)."""
    from ase import Atoms
    import deepmd
    from deepmd.jax.env import jnp
    from deepmd.jax.model.base_model import BaseModel

    model = BaseModel.deserialize(document["model"])
    type_map = document["model"]["type_map"]
    written, entries = [], []
    for atoms in frames:
        n = len(atoms)
        atype = np.array([[type_map.index(s) for s in atoms.get_chemical_symbols()]])
        box = jnp.asarray(atoms.cell.array.reshape(1, 9)) if atoms.pbc.all() else None
        result = model(jnp.asarray(atoms.positions.reshape(1, n, 3)), jnp.asarray(atype), box, do_atomic_virial=True)
        e = float(np.asarray(result["energy"]).reshape(()))
        v = np.asarray(result["virial"]).reshape(3, 3)
        a = Atoms(atoms.get_chemical_symbols(), atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        a.info = {"energy": e, "virial": v, "config": atoms.info["config"]}
        a.arrays["forces"] = np.asarray(result["force"]).reshape(n, 3)
        a.arrays["energies"] = np.asarray(result["atom_energy"]).reshape(n)
        a.arrays["atom_virial"] = np.asarray(result["atom_virial"]).reshape(n, 9)
        written.append(a)
        entries.append({"config": atoms.info["config"], "natoms": n, "pbc": atoms.pbc.tolist(), "energy": e,
                        "virial": v.tolist(), "neighbours": [neighbour_summary(atoms, RCUT, SEL)]})
    write_full_precision_extxyz(out / "reference.xyz", written)
    summary = {"model": f"{NAME}.dp", "deepmd_kit_version": deepmd.__version__, "type_map": type_map,
               "min_nbor_dist": document["min_nbor_dist"], "frames": entries, "output": "reference.xyz",
               "precision": "float64 (DeePMD-kit's JAX backend on the compressed model, do_atomic_virial)"}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))


def main() -> None:
    from deepmd.dpmodel.model.base_model import BaseModel
    from deepmd.dpmodel.utils.serialization import load_dp_model, save_dp_model

    rng = np.random.default_rng(20261203)
    with tempfile.TemporaryDirectory(prefix="dp-compressed-") as tmp:
        training_data(Path(tmp) / "data", rng, 120)
        distance = nearest_distance(Path(tmp) / "data")
    frames = configurations(rng)

    document = load_dp_model(str(ROOT / "inputs" / "models" / SOURCE / f"{SOURCE}.dp"))
    model = BaseModel.deserialize(document["model"])
    # dp compress's defaults: extrapolate 5, strides 0.01 and 0.1.
    model.atomic_model.descriptor.enable_compression(distance, 5, 0.01, 0.1, -1)
    document["model"] = model.serialize()
    document["min_nbor_dist"] = distance
    folder = ROOT / "inputs" / "models" / NAME
    (folder / "fixtures").mkdir(parents=True, exist_ok=True)
    save_dp_model(str(folder / f"{NAME}.dp"), document)
    write_full_precision_extxyz(folder / "fixtures" / "configs.xyz", frames)
    jax_reference(load_dp_model(str(folder / f"{NAME}.dp")), frames, folder / "fixtures")
    print(f"wrote {folder} (min_nbor_dist {distance})")


if __name__ == "__main__":
    main()
