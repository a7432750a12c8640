#!/usr/bin/env python3
"""A DPA-3 model of production shape for bench/dpa3, trained for a few steps (timing object, not
a potential).

Usage (a venv with DeePMD-kit 3.2's PyTorch backend and ASE, e.g. bench/dpa1's venv-pt):
    OMP_NUM_THREADS=1 VENV/bin/python tools/dpa3/make_bench_model.py OUT_FOLDER [--steps 10]

Writes OUT_FOLDER/cu_dpa3_bench.dp and input.json. The shape is DeePMD-kit's DPA-3 example
(examples/water/dpa3/input_torch.json): 6 repflow layers, n/e/a dims 128/64/32, e_rcut 6 (e_sel
120), a_rcut 4 (a_sel 30), axis 4, a_compress_rate 1 with a_compress_e_rate 2 and the split,
res_residual updates, smooth edge update, the exponential switch, dynamic sel (factor 10),
silut:10 and a [240, 240, 240] fitting. The training data and the `dp` runner are
tools/dpa1/make_fixtures.py's (EMT-labelled Cu–Ag frames), the input is built by
tools/dpa3/make_fixtures.py's `training_input`; the model is ~12 MB in float64, so it stays out
of git and the bench builds it into its cache.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import importlib.util

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "dpa1"))
from make_fixtures import dp, training_data  # noqa: E402  (tools/dpa1's)

import numpy as np  # noqa: E402

# tools/dpa3/make_fixtures.py under another name (tools/dpa1's module holds the name make_fixtures).
_spec = importlib.util.spec_from_file_location("dpa3_fixtures", HERE / "make_fixtures.py")
dpa3_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dpa3_fixtures)
training_input = dpa3_fixtures.training_input

NAME = "cu_dpa3_bench"
REPFLOW = {
    "n_dim": 128, "e_dim": 64, "a_dim": 32, "nlayers": 6, "e_rcut": 6.0, "e_rcut_smth": 5.3, "e_sel": 120,
    "a_rcut": 4.0, "a_rcut_smth": 3.5, "a_sel": 30, "axis_neuron": 4, "a_compress_rate": 1,
    "a_compress_e_rate": 2, "a_compress_use_split": True, "update_angle": True, "update_style": "res_residual",
    "update_residual": 0.1, "update_residual_init": "const", "smooth_edge_update": True, "use_exp_switch": True,
    "use_dynamic_sel": True, "sel_reduce_factor": 10.0,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--frames", type=int, default=20)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dpa3-bench-") as tmp:
        work = Path(tmp)
        training_data(work / "data", np.random.default_rng(20261206), args.frames)
        config = training_input({"repflow": REPFLOW}, work / "data", args.steps)
        config["model"]["fitting_net"]["neuron"] = [240, 240, 240]
        config["training"]["disp_freq"] = args.steps
        (work / "input.json").write_text(json.dumps(config, indent=1))
        dp("--pt", "train", "input.json", cwd=work)
        dp("--pt", "freeze", "-o", f"{NAME}.pth", cwd=work)
        dp("convert-backend", f"{NAME}.pth", str(args.out.resolve() / f"{NAME}.dp"), cwd=work)
        config["training"]["training_data"]["systems"] = ["(EMT frames made by tools/dpa1/make_fixtures.py)"]
        (args.out / "input.json").write_text(json.dumps(config, indent=1) + "\n")
    print(args.out / f"{NAME}.dp")


if __name__ == "__main__":
    main()
