#!/usr/bin/env python3
"""DeePMD-kit's own compressed DPA-2 model and its references, for Tessera's compressed repinit
tests (`RepformerCompressionTests`).

DeePMD-kit 3.2 compresses a DPA-2 model's repinit block (strip mode, no attention layer) as it
compresses DPA-1: the geometric embedding tabulated by `DPTabulate`, the type-pair strip network
precomputed. Its dpmodel/JAX DPA-2 stores that state (`repinit_variable.compress`, descriptor
@version 4) but evaluates the networks; the compressed evaluation is the PyTorch one
(`deepmd/pt_expt/descriptor/dpa2.py` `_call_compressed`), through DeePMD-kit's custom op
`tabulate_fusion_se_atten`. The wheel's op library is built for PyTorch 2.11 and does not load
under 2.13 (tools/dpa1/README.md), so this script takes that op's C++ source from DeePMD-kit
(`source/op/pt/tabulate_multi_device.cc`, `source/lib/src/tabulate.cc` and their headers, given
with --op-source) and compiles it against the installed PyTorch; forces and virials come from the
op's own backward (its grad kernels) through PyTorch's autograd.

For cuag_dpa2 it writes, into inputs/models/cuag_dpa2_compressed/:
  cuag_dpa2_compressed.dp              the compressed model (DeePMD-kit's `enable_compression`
                                       on the pt_expt model, then its own `serialize`;
                                       `min_nbor_dist` at the top level)
  fixtures/configs.xyz                 the seven configurations of tools/dpa1/make_fixtures.py
  fixtures/reference.xyz, summary.json the compressed PyTorch model's values on them, and how far
                                       they are from the uncompressed model's
`min_nbor_dist` is the nearest neighbour distance of the training data, recomputed from the same
seeded frames (tools/dpa1/make_compressed.py).

Usage (a venv with DeePMD-kit 3.2, torch 2.13 CPU and ASE, e.g. /work/dpvenv; a C++17 compiler):
    OMP_NUM_THREADS=1 python tools/dpa2/make_compressed.py --op-source DIR
where DIR holds DeePMD-kit's `source/` tree (a checkout of deepmodeling/deepmd-kit).
"""

import argparse
import json
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dpa1"))
from make_fixtures import (PATCH, ROOT, configurations, neighbour_summary, training_data,  # noqa: E402
                           write_full_precision_extxyz)
from make_compressed import nearest_distance  # noqa: E402

SOURCE = "cuag_dpa2"
NAME = f"{SOURCE}_compressed"
RCUT, SEL = 5.0, 60


def build_op(source: Path) -> Path:
    """DeePMD-kit's tabulate ops (CPU) compiled against the installed PyTorch, once, into
    .build/dpa2-op/ (a few minutes: the PyTorch headers)."""
    import torch

    torch_dir = Path(torch.__file__).parent
    library = ROOT / ".build" / "dpa2-op" / f"libdeepmd_tabulate_op-torch{torch.__version__}.so"
    if library.exists():
        return library
    library.parent.mkdir(parents=True, exist_ok=True)
    command = ["g++", "-O2", "-shared", "-fPIC", "-std=c++20",
               f"-D_GLIBCXX_USE_CXX11_ABI={int(torch.compiled_with_cxx11_abi())}",
               f"-I{source / 'lib' / 'include'}", f"-I{torch_dir / 'include'}",
               f"-I{torch_dir / 'include' / 'torch' / 'csrc' / 'api' / 'include'}",
               f"-I{sysconfig.get_paths()['include']}",
               str(source / "lib" / "src" / "tabulate.cc"), str(source / "op" / "pt" / "tabulate_multi_device.cc"),
               f"-L{torch_dir / 'lib'}", "-ltorch", "-ltorch_cpu", "-lc10", f"-Wl,-rpath,{torch_dir / 'lib'}",
               "-o", str(library)]
    subprocess.run(command, check=True)
    return library


def evaluate(model, atoms) -> dict:
    """One frame through a pt_expt model: energy, forces, virial and per-atom values (float64)."""
    import torch

    type_map = model.get_type_map()
    n = len(atoms)
    # Forces and virials are derivatives with respect to the (extended) coordinates.
    coord = torch.tensor(atoms.positions.reshape(1, n, 3), dtype=torch.float64, requires_grad=True)
    atype = torch.tensor([[type_map.index(s) for s in atoms.get_chemical_symbols()]], dtype=torch.int64)
    box = torch.tensor(atoms.cell.array.reshape(1, 9), dtype=torch.float64) if atoms.pbc.all() else None
    result = model(coord, atype, box, do_atomic_virial=True)
    return {key: result[key].detach().numpy() for key in ("energy", "force", "virial", "atom_energy", "atom_virial")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--op-source", type=Path, required=True, help="DeePMD-kit's source/ folder")
    args = parser.parse_args()
    exec(PATCH)  # the wheel's op library is not loaded; ours is, before any PyTorch backend module
    import torch

    torch.ops.load_library(str(build_op(args.op_source.resolve())))
    from ase import Atoms
    import deepmd
    from deepmd.dpmodel.utils.serialization import load_dp_model, save_dp_model
    from deepmd.pt_expt.model import BaseModel

    rng = np.random.default_rng(20261203)
    with tempfile.TemporaryDirectory(prefix="dp-compressed-") as tmp:
        training_data(Path(tmp) / "data", rng, 120)
        distance = nearest_distance(Path(tmp) / "data")
    frames = configurations(rng)

    document = load_dp_model(str(ROOT / "inputs" / "models" / SOURCE / f"{SOURCE}.dp"))
    plain = BaseModel.deserialize(document["model"])
    # The uncompressed pt_expt DPA-2 would take DeePMD-kit's sel-free graph route, which keeps every
    # neighbour within rcut; the compressed one (and the PyTorch backend of cuag_dpa2's references)
    # keeps the nearest sel: compare like with like.
    plain.atomic_model.descriptor.disable_graph_lower()
    model = BaseModel.deserialize(document["model"])
    # dp compress's defaults: extrapolate 5, strides 0.01 and 0.1, no overflow check.
    model.atomic_model.descriptor.enable_compression(distance, 5, 0.01, 0.1, -1)
    assert model.atomic_model.descriptor.geo_compress
    document["model"] = model.serialize()
    document["min_nbor_dist"] = distance
    folder = ROOT / "inputs" / "models" / NAME
    (folder / "fixtures").mkdir(parents=True, exist_ok=True)
    save_dp_model(str(folder / f"{NAME}.dp"), document)
    # The file carries the tables that were evaluated, bit for bit.
    stored = load_dp_model(str(folder / f"{NAME}.dp"))["model"]["descriptor"]["repinit_variable"]["compress"]["@variables"]
    descriptor = model.atomic_model.descriptor
    assert np.array_equal(stored["compress_data"][0], descriptor.compress_data[0].detach().numpy())
    assert np.array_equal(stored["compress_info"][0], descriptor.compress_info[0].detach().numpy())
    write_full_precision_extxyz(folder / "fixtures" / "configs.xyz", frames)

    import ase.io
    uncompressed = ase.io.read(ROOT / "inputs" / "models" / SOURCE / "fixtures" / "reference.xyz", ":")
    written, entries = [], []
    for atoms, stored in zip(frames, uncompressed):
        n = len(atoms)
        ours, theirs = evaluate(model, atoms), evaluate(plain, atoms)
        # The uncompressed pt_expt model is the PyTorch backend's (cuag_dpa2's references).
        assert abs(float(theirs["energy"].reshape(())) - stored.get_potential_energy()) < 1e-10 * n, atoms.info["config"]
        e = float(ours["energy"].reshape(()))
        v = ours["virial"].reshape(3, 3)
        a = Atoms(atoms.get_chemical_symbols(), atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        a.info = {"energy": e, "virial": v, "config": atoms.info["config"]}
        a.arrays["forces"] = ours["force"].reshape(n, 3)
        a.arrays["energies"] = ours["atom_energy"].reshape(n)
        a.arrays["atom_virial"] = ours["atom_virial"].reshape(n, 9)
        written.append(a)
        entries.append({
            "config": atoms.info["config"], "natoms": n, "pbc": atoms.pbc.tolist(), "energy": e,
            "virial": v.tolist(), "neighbours": [neighbour_summary(atoms, RCUT, SEL)],
            "uncompressed_energy_difference_per_atom": abs(e - float(theirs["energy"].reshape(()))) / n,
            "uncompressed_max_force_difference": float(np.abs(ours["force"] - theirs["force"]).max()),
        })
    write_full_precision_extxyz(folder / "fixtures" / "reference.xyz", written)
    summary = {"model": f"{NAME}.dp", "source": f"{SOURCE}.dp", "deepmd_kit_version": deepmd.__version__,
               "torch_version": torch.__version__, "type_map": document["model"]["type_map"],
               "min_nbor_dist": distance, "frames": entries, "output": "reference.xyz",
               "precision": "float64 (DeePMD-kit's pt_expt compressed DPA-2 with its tabulate_fusion_se_atten op, "
                            "do_atomic_virial)"}
    (folder / "fixtures" / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"wrote {folder} (min_nbor_dist {distance})")
    for entry in entries:
        print(entry["config"], entry["uncompressed_energy_difference_per_atom"], entry["uncompressed_max_force_difference"])


if __name__ == "__main__":
    main()
