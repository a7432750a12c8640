#!/usr/bin/env python3
"""Train tiny se_e2_r, se_e3, se_e3_tebd and hybrid models with DeePMD-kit's PyTorch backend and
write their reference values, for Tessera's evaluator tests (ScalarDescriptorTests, HybridModelTests).

Usage (the venv of make_fixtures.py, README.md beside this script):
    OMP_NUM_THREADS=1 .build/dpa1venv/bin/python tools/dpa1/make_se_fixtures.py [--steps 300]

The data, the seven configurations, the training, freezing, conversion and DeePMD-kit's
references are make_fixtures.py's (`build`); only the descriptors differ. Their per-type `sel`
is the largest number of neighbours of each type within rcut over the configurations other than
dense_over_sel, so that dense_over_sel is the one configuration that overflows, at every atom (checked here).
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import main, neighbour_counts  # noqa: E402


def sectioned_sel(frames: list, rcut: float) -> list:
    """Per type, the most neighbours of that type within rcut outside dense_over_sel; every atom
    of the dense configuration must have more than their sum (DeePMD-kit keeps the nearest Σsel)."""
    ordinary = [a for a in frames if a.info["config"] != "dense_over_sel"]
    dense = next(a for a in frames if a.info["config"] == "dense_over_sel")
    sel = np.max([neighbour_counts(a, rcut).max(axis=0) for a in ordinary], axis=0)
    counts = neighbour_counts(dense, rcut)
    assert np.all(counts.sum(axis=1) > sel.sum()), "every atom of dense_over_sel must have more than Σsel neighbours"
    return [int(s) for s in sel]


def se_models(frames: list) -> dict:
    """se_e2_r (two-body radial, rcut 5 Å) and se_e3 (three-body angular, rcut 4 Å: its cost
    grows with sel², so a shorter cut-off keeps it small); se_e3_tebd in concat and strip mode
    (one mixed section of 20 > the 18 neighbours within 4 Å outside dense_over_sel); two hybrids,
    each part with its own rcut and sel: se_e2_a (5 Å) + se_atten_v2 with one attention layer
    (4 Å), a mixed-type hybrid, and se_e2_r (5 Å) + se_e3 (4 Å), a type-sectioned one."""
    radial = {"type": "se_e2_r", "rcut": 5.0, "rcut_smth": 0.5, "sel": sectioned_sel(frames, 5.0),
              "neuron": [8, 16, 32], "resnet_dt": False, "type_one_side": True, "precision": "float64", "seed": 1}
    three_body = {"type": "se_e3", "rcut": 4.0, "rcut_smth": 0.5, "sel": sectioned_sel(frames, 4.0),
                  "neuron": [4, 8, 16], "resnet_dt": False, "precision": "float64", "seed": 1}
    angular = {"type": "se_e2_a", "rcut": 5.0, "rcut_smth": 0.5, "sel": sectioned_sel(frames, 5.0),
               "neuron": [8, 16], "axis_neuron": 4, "precision": "float64", "seed": 1}
    # 24 > the 18 neighbours within 4 Å outside dense_over_sel, which has 42.
    attention = {"type": "se_atten_v2", "rcut": 4.0, "rcut_smth": 0.5, "sel": 24, "neuron": [8, 16],
                 "axis_neuron": 4, "tebd_dim": 8, "attn": 16, "attn_layer": 1, "attn_dotr": True,
                 "precision": "float64", "seed": 1}
    typed = {"type": "se_e3_tebd", "rcut": 4.0, "rcut_smth": 0.5, "sel": 20, "neuron": [4, 8, 16], "tebd_dim": 8,
             "precision": "float64", "seed": 1}
    return {
        "cuag_se_e2_r": radial,
        "cuag_se_e3": three_body,
        "cuag_se_e3_tebd_concat": dict(typed, tebd_input_mode="concat"),
        "cuag_se_e3_tebd_strip": dict(typed, tebd_input_mode="strip"),
        "cuag_hybrid_a_atten": {"type": "hybrid", "list": [angular, attention]},
        "cuag_hybrid_r_e3": {"type": "hybrid", "list": [radial, three_body]},
    }


if __name__ == "__main__":
    main(se_models)
