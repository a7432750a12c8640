#!/usr/bin/env python3
"""Train a tiny DPA-3 model with DeePMD-kit's PyTorch backend and write its reference values,
for Tessera's DPA-3 evaluator tests.

Usage (the DPA-1 venv, see tools/dpa1/README.md):
    OMP_NUM_THREADS=1 .build/dpa1venv/bin/python tools/dpa3/make_fixtures.py [--steps 200]

The training data (EMT-labelled Cu–Ag frames) and the seven test configurations are those of
tools/dpa1/make_fixtures.py, drawn from the same seed in the same order, so the DPA-1 and
DPA-3 fixtures share their configurations. For each model of MODELS it writes NAME.dp,
input.json and fixtures/{configs,reference}.xyz, fixtures/summary.json under
inputs/models/NAME/ (layout: inputs/models/README.md).
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dpa1"))
from make_fixtures import (  # noqa: E402  (the shared data generation)
    ROOT, TYPE_MAP, configurations, dp, reference, training_data, write_full_precision_extxyz,
)

import numpy as np  # noqa: E402

E_RCUT, E_SEL = 5.0, 60

# cuag_dpa3: three repflow layers with DeePMD-kit's defaults (res_residual updates, angle
# updates, optim_update) plus the smooth edge update and the silut activation of the
# published DPA-3 inputs.
# cuag_dpa3_avg and cuag_dpa3_incr change the math elsewhere: the other two update styles, the
# exponential switch (with r_s where it has decayed to 1e-11 at r_c), edges initialised from r,
# edges outside the angle list keeping their own feature as angle message, the un-split
# (concatenating) update path, the type embedding appended to the descriptor, other activations.
# cuag_dpa3_compress and cuag_dpa3_split compress the node and edge features that enter the angle
# updates (a_compress_rate: by learned linear maps, with a_compress_e_rate widening the edges'
# share; a_compress_use_split: by keeping their first components); cuag_dpa3_dynamic normalises
# by e_sel / sel_reduce_factor and a_sel / sel_reduce_factor (use_dynamic_sel).
MODELS = {
    "cuag_dpa3": {"nlayers": 3, "smooth_edge_update": True},
    "cuag_dpa3_avg": {"repflow": {"update_style": "res_avg", "use_exp_switch": True, "e_rcut_smth": 4.3,
                                  "a_rcut_smth": 3.0, "edge_init_use_dist": True, "optim_update": False},
                      "descriptor": {"concat_output_tebd": True, "activation_function": "silu"}},
    "cuag_dpa3_incr": {"repflow": {"update_style": "res_incr", "nlayers": 2},
                       "descriptor": {"activation_function": "tanh"}},
    "cuag_dpa3_compress": {"a_compress_rate": 1, "a_compress_e_rate": 2},
    "cuag_dpa3_split": {"a_compress_rate": 2, "a_compress_use_split": True},
    "cuag_dpa3_dynamic": {"use_dynamic_sel": True, "sel_reduce_factor": 5.0, "smooth_edge_update": True},
}


def training_input(options: dict, data: Path, steps: int) -> dict:
    """`options`: repflow keys, or {"repflow": {...}, "descriptor": {...}}."""
    if "repflow" not in options:
        options = {"repflow": options}
    repflow = {
        "n_dim": 16, "e_dim": 8, "a_dim": 8, "nlayers": 2, "e_rcut": E_RCUT, "e_rcut_smth": 0.5,
        "e_sel": E_SEL, "a_rcut": 3.5, "a_rcut_smth": 0.5, "a_sel": 24, "axis_neuron": 4,
    }
    repflow.update(options["repflow"])
    descriptor = {"type": "dpa3", "repflow": repflow, "activation_function": "silut:10.0",
                  "precision": "float64", "seed": 1}
    descriptor.update(options.get("descriptor", {}))
    return {
        "model": {
            "type_map": TYPE_MAP,
            "descriptor": descriptor,
            "fitting_net": {"neuron": [32, 32], "resnet_dt": True, "precision": "float64", "seed": 1},
        },
        "learning_rate": {"type": "exp", "start_lr": 1e-3, "stop_lr": 1e-4, "decay_steps": 50},
        "loss": {"type": "ener", "start_pref_e": 0.02, "limit_pref_e": 1, "start_pref_f": 1000,
                 "limit_pref_f": 1, "start_pref_v": 0.02, "limit_pref_v": 1},
        "training": {
            "training_data": {"systems": [str(data)], "batch_size": 1},
            "numb_steps": steps, "disp_freq": 100, "save_freq": steps, "seed": 1,
        },
    }


def eager_reference(checkpoint: Path, frames: list, out: Path) -> None:
    """tools/dpa1's `reference` on a training checkpoint, with torch.jit.script made the identity
    for the call: DeepPot scripts the model it loads, which fails as freezing does, and evaluates
    the eager PyTorch model (autograd forces) otherwise alike."""
    import torch

    script = torch.jit.script
    torch.jit.script = lambda module, *args, **kwargs: module
    try:
        reference(checkpoint, frames, out, parts=((E_RCUT, E_SEL),))
    finally:
        torch.jit.script = script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--only", nargs="*", choices=list(MODELS), help="train only these models")
    args = parser.parse_args()
    rng = np.random.default_rng(20261203)
    with tempfile.TemporaryDirectory(prefix="dpa3-fixtures-") as tmp:
        work = Path(tmp)
        training_data(work / "data", rng, args.frames)
        frames = configurations(rng)
        for name, options in MODELS.items():
            if args.only and name not in args.only:
                continue
            folder = ROOT / "inputs" / "models" / name
            (folder / "fixtures").mkdir(parents=True, exist_ok=True)
            run = work / name
            run.mkdir()
            config = training_input(options, work / "data", args.steps)
            (run / "input.json").write_text(json.dumps(config, indent=1))
            dp("--pt", "train", "input.json", cwd=run)
            # DeePMD-kit 3.2 cannot TorchScript res_avg / res_incr models (its sequential-update
            # branch indexes the residual vectors those styles lack): they are converted from the
            # training checkpoint and evaluated by the eager PyTorch model (`eager_reference`).
            source = f"{name}.pth" if config["model"]["descriptor"]["repflow"].get("update_style", "res_residual") \
                == "res_residual" else "model.ckpt.pt"
            if source.endswith(".pth"):
                dp("--pt", "freeze", "-o", source, cwd=run)
            dp("convert-backend", source, str(folder / f"{name}.dp"), cwd=run)
            config["training"]["training_data"]["systems"] = ["(EMT frames made by tools/dpa1/make_fixtures.py)"]
            (folder / "input.json").write_text(json.dumps(config, indent=1) + "\n")
            write_full_precision_extxyz(folder / "fixtures" / "configs.xyz", frames)
            if source.endswith(".pth"):
                reference(run / source, frames, folder / "fixtures", parts=((E_RCUT, E_SEL),))
            else:
                eager_reference(run / source, frames, folder / "fixtures")
            print(f"wrote {folder}")


if __name__ == "__main__":
    main()
