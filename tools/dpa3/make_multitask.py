#!/usr/bin/env python3
"""A tiny multi-task DPA-3 model (one shared descriptor, two fitting heads) and each head's
references, for Tessera's DPA-3 tests.

Usage (as make_fixtures.py):
    OMP_NUM_THREADS=1 .build/dpa1venv/bin/python tools/dpa3/make_multitask.py [--steps 200]

DeePMD-kit 3.2 keeps a multi-task model only as a PyTorch training checkpoint; a head becomes a
model of its own by `dp --pt freeze --head HEAD` (a single-task `.pth`, the shared descriptor with
that head's fitting), which `dp convert-backend` turns into a `.dp`. This script trains the two
heads `cuag` and `cuag_soft` on the Cu–Ag EMT data of make_fixtures.py (the second on energies
and forces scaled by 0.9, another "functional"), then writes inputs/models/cuag_dpa3_multitask/:
input.json, HEAD.dp and fixtures/HEAD/{configs,reference}.xyz, summary.json per head.
"""

import argparse
import copy
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dpa1"))
from make_fixtures import (  # noqa: E402
    ROOT, TYPE_MAP, configurations, dp, reference, training_data, write_full_precision_extxyz,
)

import numpy as np  # noqa: E402

NAME = "cuag_dpa3_multitask"
HEADS = {"cuag": 1.0, "cuag_soft": 0.9}


def scaled_copy(data: Path, out: Path, factor: float) -> None:
    """The npy system with energies, forces and virials times `factor`."""
    shutil.copytree(data, out)
    for name in ("energy", "force", "virial"):
        path = out / "set.000" / f"{name}.npy"
        np.save(path, np.load(path) * factor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--frames", type=int, default=120)
    args = parser.parse_args()
    import importlib.util
    spec = importlib.util.spec_from_file_location("dpa3_fixtures", Path(__file__).resolve().parent / "make_fixtures.py")
    dpa3 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dpa3)
    rng = np.random.default_rng(20261203)
    with tempfile.TemporaryDirectory(prefix="dpa3-multitask-") as tmp:
        work = Path(tmp)
        training_data(work / "data", rng, args.frames)
        frames = configurations(rng)
        single = dpa3.training_input({"nlayers": 2, "smooth_edge_update": True}, work / "data", args.steps)
        model, loss, training = single["model"], single["loss"], single["training"]
        config = {
            "model": {
                "shared_dict": {"type_map_all": TYPE_MAP, "dpa3_descriptor": model["descriptor"]},
                "model_dict": {},
            },
            "learning_rate": single["learning_rate"],
            "loss_dict": {},
            "training": {
                "model_prob": {head: 1.0 for head in HEADS},
                "data_dict": {},
                **{k: v for k, v in training.items() if k != "training_data"},
            },
        }
        for seed, (head, factor) in enumerate(HEADS.items(), start=1):
            data = work / f"data_{head}"
            scaled_copy(work / "data", data, factor)
            fitting = copy.deepcopy(model["fitting_net"])
            fitting["seed"] = seed
            config["model"]["model_dict"][head] = {"type_map": "type_map_all", "descriptor": "dpa3_descriptor",
                                                   "fitting_net": fitting}
            config["loss_dict"][head] = loss
            config["training"]["data_dict"][head] = {"training_data": {"systems": [str(data)], "batch_size": 1}}
        run = work / "run"
        run.mkdir()
        (run / "input.json").write_text(json.dumps(config, indent=1))
        dp("--pt", "train", "input.json", cwd=run)
        folder = ROOT / "inputs" / "models" / NAME
        folder.mkdir(parents=True, exist_ok=True)
        for head in HEADS:
            dp("--pt", "freeze", "--head", head, "-o", f"{head}.pth", cwd=run)
            dp("convert-backend", f"{head}.pth", str(folder / f"{head}.dp"), cwd=run)
            out = folder / "fixtures" / head
            out.mkdir(parents=True, exist_ok=True)
            write_full_precision_extxyz(out / "configs.xyz", frames)
            reference(run / f"{head}.pth", frames, out, parts=((dpa3.E_RCUT, dpa3.E_SEL),))
        for head in HEADS:
            config["training"]["data_dict"][head]["training_data"]["systems"] = [
                f"(EMT frames made by tools/dpa1/make_fixtures.py, labels x {HEADS[head]})"]
        (folder / "input.json").write_text(json.dumps(config, indent=1) + "\n")
        print(f"wrote {folder}")


if __name__ == "__main__":
    main()
