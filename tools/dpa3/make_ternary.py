#!/usr/bin/env python3
"""A three-element DPA-3 fixture (Cu–Ag–Au, EMT-labelled), for Tessera's DPA-3 evaluator tests.

Usage (as make_fixtures.py):
    OMP_NUM_THREADS=1 .build/dpa1venv/bin/python tools/dpa3/make_ternary.py [--steps 200]

tools/dpa1's data generation with a third element: every alloy cell and every test configuration
of the Cu–Ag sets (same seed, same order) has each site turned into Au with probability 1/3, drawn
from a second seeded generator, and the frames are labelled by EMT. Writes inputs/models/cuagau_dpa3/
in the layout of the other DPA-3 fixtures.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dpa1"))
import make_fixtures as dpa1  # noqa: E402  (tools/dpa1: the data generation, by module globals)
from make_fixtures import ROOT, dp, reference, write_full_precision_extxyz  # noqa: E402

import numpy as np  # noqa: E402

NAME = "cuagau_dpa3"
GOLD = np.random.default_rng(20261204)


def with_gold(atoms):
    """Each site Au with probability 1/3 (the Cu–Ag pattern elsewhere)."""
    symbols = np.array(atoms.get_chemical_symbols())
    symbols[GOLD.random(len(atoms)) < 1 / 3] = "Au"
    atoms.set_chemical_symbols(symbols.tolist())
    return atoms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--frames", type=int, default=120)
    args = parser.parse_args()
    dpa1.TYPE_MAP = ["Cu", "Ag", "Au"]
    cuag_cell = dpa1.alloy_cell
    dpa1.alloy_cell = lambda *a, **k: with_gold(cuag_cell(*a, **k))
    # tools/dpa3/make_fixtures.py (its training input) imports TYPE_MAP from tools/dpa1 by name: load
    # it after the change, its `make_fixtures` being tools/dpa1's module.
    import importlib.util
    spec = importlib.util.spec_from_file_location("dpa3_fixtures", Path(__file__).resolve().parent / "make_fixtures.py")
    dpa3 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dpa3)
    rng = np.random.default_rng(20261203)
    with tempfile.TemporaryDirectory(prefix="dpa3-ternary-") as tmp:
        work = Path(tmp)
        dpa1.training_data(work / "data", rng, args.frames)
        frames = []
        for atoms in dpa1.configurations(rng):
            info = dict(atoms.info)
            atoms = with_gold(atoms)
            atoms.info = info
            frames.append(atoms)
        folder = ROOT / "inputs" / "models" / NAME
        (folder / "fixtures").mkdir(parents=True, exist_ok=True)
        run = work / NAME
        run.mkdir()
        config = dpa3.training_input({"nlayers": 2, "smooth_edge_update": True}, work / "data", args.steps)
        (run / "input.json").write_text(json.dumps(config, indent=1))
        dp("--pt", "train", "input.json", cwd=run)
        dp("--pt", "freeze", "-o", f"{NAME}.pth", cwd=run)
        dp("convert-backend", f"{NAME}.pth", str(folder / f"{NAME}.dp"), cwd=run)
        config["training"]["training_data"]["systems"] = ["(EMT Cu–Ag–Au frames made by make_ternary.py)"]
        (folder / "input.json").write_text(json.dumps(config, indent=1) + "\n")
        write_full_precision_extxyz(folder / "fixtures" / "configs.xyz", frames)
        reference(run / f"{NAME}.pth", frames, folder / "fixtures", parts=((dpa3.E_RCUT, dpa3.E_SEL),))
        print(f"wrote {folder}")


if __name__ == "__main__":
    main()
