#!/usr/bin/env python3
"""DeePMD-kit references for variants of the se_e2_r, se_e3, se_e3_tebd and hybrid fixture models,
made by editing the model document (no training), as make_variants.py makes the DPA-1 ones and
with its code: inputs/models/cuag_se_variants/variants.json and NAME.xyz per variant (the 4-atom
box and the cluster).

Usage (the venv of make_fixtures.py):
    OMP_NUM_THREADS=1 .build/dpa1venv/bin/python tools/dpa1/make_se_variants.py
"""

import json
import sys
from pathlib import Path

import h5py

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import ROOT  # noqa: E402
from make_variants import D, write_variants  # noqa: E402


def variants(models: Path) -> dict:
    """name -> (base model, edits). `davg` pointed at the `dstd` dataset makes padding rows
    nonzero (the trained se_e3_tebd statistics have davg zero, set_davg_zero)."""
    def dstd_path(name: str) -> str:
        with h5py.File(models / name / f"{name}.dp") as f:
            return json.loads(f.attrs["json"])["model"]["descriptor"]["@variables"]["dstd"]

    return {
        "se_e2_r_exclude": ("cuag_se_e2_r", [[f"{D}.exclude_types", [[0, 1]]]]),
        "se_e3_protection_exclude": ("cuag_se_e3", [[f"{D}.env_protection", 0.4], [f"{D}.exclude_types", [[1, 1]]]]),
        # strip, non-smooth: padding slots' type factor is that of the type of atom 0.
        "se_e3_tebd_strip_non_smooth": ("cuag_se_e3_tebd_strip", [[f"{D}.smooth", False],
                                         [f"{D}.@variables.davg", dstd_path("cuag_se_e3_tebd_strip")]]),
        # concat: padding slots read the type embedding of atom 0.
        "se_e3_tebd_concat_padding": ("cuag_se_e3_tebd_concat",
                                      [[f"{D}.@variables.davg", dstd_path("cuag_se_e3_tebd_concat")]]),
        # a pair exclusion turns neighbours into padding before the mixed list is split by type.
        "hybrid_pair_exclude": ("cuag_hybrid_a_atten", [["model.pair_exclude_types", [[0, 1]]]]),
        "hybrid_atom_exclude": ("cuag_hybrid_r_e3", [["model.atom_exclude_types", [1]]]),
    }


if __name__ == "__main__":
    models = ROOT / "inputs" / "models"
    write_variants(variants(models), models / "cuag_se_variants", ())
