#!/usr/bin/env python3
"""Train tiny DPA-2 models with DeePMD-kit's PyTorch backend and write their reference values,
for Tessera's DPA-2 evaluator tests.

Usage (the DPA-1 venv, see tools/dpa1/README.md):
    OMP_NUM_THREADS=1 .build/dpa1venv/bin/python tools/dpa2/make_fixtures.py [--steps 200] [--only NAME…]

The training data (EMT-labelled Cu–Ag frames) and the seven test configurations are those of
tools/dpa1/make_fixtures.py, drawn from the same seed in the same order, so the DPA-1, DPA-2 and
DPA-3 fixtures share their configurations. For each model of MODELS it writes NAME.dp,
input.json and fixtures/{configs,reference}.xyz, fixtures/summary.json under
inputs/models/NAME/ (layout: inputs/models/README.md).
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dpa1"))
from make_fixtures import (  # noqa: E402  (tools/dpa1: the shared data generation)
    PATCH, ROOT, TYPE_MAP, configurations, dp, reference, training_data, write_full_precision_extxyz,
)

import numpy as np  # noqa: E402

RCUT, SEL = 5.0, 60

# cuag_dpa2: repinit in strip mode, two res_residual repformer layers with every g1 update
# (convolution, drrd, grrg, local attention) and the gated g2 attention; h2 not updated.
# cuag_dpa2_avg: the other switches that change the math: res_avg, no attention, repinit in
# concat mode with the three-body (se_e3_tebd) block, neighbour sums over sel instead of √sel,
# the convolution and the g1 self MLP in their other forms, the descriptor without the type
# embedding appended, another activation.
# cuag_dpa2_incr: res_incr over three layers, the ungated g2 attention, no convolution, grrg or
# g1⊗g1, g1 itself into linear1, one and three heads, the one-sided strip repinit with the
# three-body block in strip mode.
# cuag_dpa2_h2: cuag_dpa2 over three layers with h2 updated by the g2 attention (update_h2).
# cuag_dpa2_direct: cuag_dpa2 with g2 and h2 from r/rcut and r_ij/rcut (direct_dist).
MODELS = {
    "cuag_dpa2": {"repformer": {"attn2_has_gate": True}},
    "cuag_dpa2_avg": {
        "repinit": {"tebd_input_mode": "concat", "use_three_body": True, "three_body_neuron": [2, 4],
                    "three_body_sel": 30, "three_body_rcut": 4.0, "three_body_rcut_smth": 0.5,
                    "activation_function": "silu"},
        "repformer": {"update_style": "res_avg", "update_g1_has_attn": False, "update_g2_has_attn": False,
                      "use_sqrt_nnei": False, "g1_out_conv": False, "g1_out_mlp": False,
                      "activation_function": "silu"},
        "descriptor": {"concat_output_tebd": False},
    },
    "cuag_dpa2_incr": {
        "repinit": {"type_one_side": True, "use_three_body": True, "three_body_neuron": [2, 4],
                    "three_body_sel": 30, "three_body_rcut": 4.0, "three_body_rcut_smth": 0.5},
        "repformer": {"nlayers": 3, "update_style": "res_incr", "update_g1_has_conv": False,
                      "update_g1_has_grrg": False, "update_g2_has_g1g1": False, "g1_out_mlp": False,
                      "attn1_nhead": 1, "attn2_nhead": 3},
    },
    "cuag_dpa2_h2": {"repformer": {"nlayers": 3, "update_h2": True, "attn2_has_gate": True}},
    "cuag_dpa2_direct": {"repformer": {"direct_dist": True, "attn2_has_gate": True}},
}


def training_input(options: dict, data: Path, steps: int) -> dict:
    repinit = {"rcut": RCUT, "rcut_smth": 0.5, "nsel": SEL, "neuron": [8, 16], "axis_neuron": 4, "tebd_dim": 8,
               "tebd_input_mode": "strip"}
    repinit.update(options.get("repinit", {}))
    repformer = {"rcut": 3.5, "rcut_smth": 0.5, "nsel": 24, "nlayers": 2, "g1_dim": 16, "g2_dim": 8,
                 "axis_neuron": 4, "attn1_hidden": 8, "attn1_nhead": 2, "attn2_hidden": 8, "attn2_nhead": 2,
                 "update_style": "res_residual", "update_residual": 0.1, "update_residual_init": "const"}
    repformer.update(options.get("repformer", {}))
    descriptor = {"type": "dpa2", "repinit": repinit, "repformer": repformer, "precision": "float64", "seed": 1}
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


def freezes(name: str, cwd: Path) -> bool:
    """`dp --pt freeze`; False where TorchScript cannot script the model (then the checkpoint is used)."""
    code = f"{PATCH}\nimport sys\nfrom deepmd.main import main\nmain(sys.argv[1:])"
    run = subprocess.run([sys.executable, "-c", code, "--pt", "freeze", "-o", f"{name}.pth"], cwd=cwd,
                         capture_output=True, text=True)
    if run.returncode != 0:
        print(f"{name}: dp --pt freeze failed, using the training checkpoint:\n{run.stderr[-1500:]}")
    return run.returncode == 0


def eager_reference(checkpoint: Path, frames: list, out: Path) -> None:
    """tools/dpa1's `reference` on a training checkpoint, torch.jit.script made the identity for the
    call (as tools/dpa3 does): the eager PyTorch model, autograd forces."""
    import torch

    script = torch.jit.script
    torch.jit.script = lambda module, *args, **kwargs: module
    try:
        reference(checkpoint, frames, out, parts=((RCUT, SEL),))
    finally:
        torch.jit.script = script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--only", nargs="*", choices=list(MODELS), help="train only these models")
    args = parser.parse_args()
    rng = np.random.default_rng(20261203)
    with tempfile.TemporaryDirectory(prefix="dpa2-fixtures-") as tmp:
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
            source = f"{name}.pth" if freezes(name, run) else "model.ckpt.pt"
            dp("convert-backend", source, str(folder / f"{name}.dp"), cwd=run)
            config["training"]["training_data"]["systems"] = ["(EMT frames made by tools/dpa1/make_fixtures.py)"]
            (folder / "input.json").write_text(json.dumps(config, indent=1) + "\n")
            write_full_precision_extxyz(folder / "fixtures" / "configs.xyz", frames)
            if source.endswith(".pth"):
                reference(run / source, frames, folder / "fixtures", parts=((RCUT, SEL),))
            else:
                eager_reference(run / source, frames, folder / "fixtures")
            print(f"wrote {folder} (from {source})")


if __name__ == "__main__":
    main()
