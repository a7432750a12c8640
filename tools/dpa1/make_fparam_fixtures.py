#!/usr/bin/env python3
"""Train tiny se_e2_a models with frame and atomic parameters (numb_fparam / numb_aparam, DP-GEN's
electronic temperature) and write their reference values, for Tessera's fparam/aparam tests
(FittingParameterTests, FittingParameterRunTests).

Usage (the venv of make_fixtures.py, README.md beside this script; TF_PYTHON a venv with
deepmd-kit 3.2.0 and tensorflow-cpu 2.21.0, tools/requirements-deepmd.txt):
    OMP_NUM_THREADS=1 .build/dpa1venv/bin/python tools/dpa1/make_fparam_fixtures.py --tf-python TF_PYTHON

The data, the seven configurations, the training, freezing, conversion and DeePMD-kit's
references are make_fixtures.py's (`build`), the labels made to depend on the parameters by its
`with_parameters`; each reference frame carries the fparam/aparam it was evaluated at. Each model
is also converted to a TensorFlow graph (`dp convert-backend NAME.dp NAME.pb` with TF_PYTHON, from a
copy whose unused out_std is one: see `unit_out_std`), and TensorFlow's DeepPot on that graph must
reproduce the references to 1e-10 relative (checked here) where no atom has more neighbours than sel.
"""

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_fixtures import main  # noqa: E402
from make_se_fixtures import sectioned_sel  # noqa: E402

# se_e2_a at rcut 5 Å; sel from the configurations as make_se_fixtures.py's (dense_over_sel overflows).
FITTINGS = {
    "cuag_fparam": {"numb_fparam": 1},
    "cuag_fparam_b": {"numb_fparam": 1, "seed": 2},  # the second model of an ensemble
    "cuag_fparam2": {"numb_fparam": 2},
    "cuag_aparam": {"numb_aparam": 1},
}

# Run by TF_PYTHON: DeepPot(NAME.pb) on the reference frames, at their parameters.
TF_CHECK = """
import sys, ase.io, numpy as np
from deepmd.infer import DeepPot
model = DeepPot(sys.argv[1])
worst = 0.0
for a in ase.io.read(sys.argv[2], index=":"):
    if a.info["config"] == "dense_over_sel":
        continue  # beyond sel, TensorFlow's environment op keeps other neighbours than PyTorch's selection
    types = [model.get_type_map().index(s) for s in a.get_chemical_symbols()]
    cell = a.cell.array.reshape(1, 9) if a.pbc.all() else None
    e, f, v, ae, av = model.eval(a.positions.reshape(1, -1), cell, types, atomic=True,
                                 fparam=a.info.get("fparam"), aparam=a.info.get("aparam"))
    # ASE's reader moves energy, forces and energies into a calculator's results.
    stored = {**a.info, **a.arrays, **(a.calc.results if a.calc is not None else {})}
    for x, y in ((e, stored["energy"]), (f, stored["forces"]), (v, stored["virial"]), (ae, stored["energies"])):
        y = np.asarray(y).reshape(-1)
        # on the scale of the largest value, at least 1 meV or meV/Å (forces vanish in the perfect lattice)
        worst = max(worst, float(np.max(np.abs(np.asarray(x).reshape(-1) - y)) / max(np.max(np.abs(y)), 1e-3)))
print(f"TensorFlow {sys.argv[1]}: largest relative deviation from the PyTorch references {worst:.2e}")
sys.exit(0 if worst < 1e-10 else 1)
"""


def parameter_models(frames: list) -> dict:
    angular = {"type": "se_e2_a", "rcut": 5.0, "rcut_smth": 0.5, "sel": sectioned_sel(frames, 5.0),
               "neuron": [8, 16], "axis_neuron": 4, "precision": "float64", "seed": 1}
    return {name: dict(angular) for name in FITTINGS}


def unit_out_std(model: Path, out: Path) -> None:
    """A copy of the .dp with the model's out_std set to one. The PyTorch and NumPy backends add only
    out_bias to an energy model's atomic energies, but DeePMD-kit 3.2's TensorFlow backend computes
    out·out_std + out_bias, so the graph of a model trained with out_std ≠ 1 (every PyTorch energy
    model) would evaluate differently; with ones, both backends evaluate the same model."""
    import json
    import shutil

    import h5py
    import numpy as np

    shutil.copy(model, out)
    with h5py.File(out, "r+") as f:
        key = json.loads(f.attrs["json"])["model"]["@variables"]["out_std"]
        f[key][...] = np.ones(f[key].shape)


def tensorflow_graph(args):
    def convert(name: str, folder: Path, frames: list) -> None:
        del frames
        dp = str(Path(args.tf_python).parent / "dp")
        unit_out_std(folder / f"{name}.dp", folder / "unit_out_std.dp")
        run = subprocess.run([dp, "convert-backend", "unit_out_std.dp", f"{name}.pb"], cwd=folder, capture_output=True,
                             text=True)
        (folder / "unit_out_std.dp").unlink()
        if run.returncode != 0:
            sys.exit(f"dp convert-backend {name}.dp {name}.pb failed:\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
        check = subprocess.run([args.tf_python, "-c", TF_CHECK, f"{name}.pb", "fixtures/reference.xyz"], cwd=folder,
                               capture_output=True, text=True)
        print(check.stdout.strip())
        if check.returncode != 0:
            sys.exit(f"{name}.pb disagrees with the references:\n{check.stderr[-3000:]}")
    return convert


if __name__ == "__main__":
    main(parameter_models, FITTINGS, after=tensorflow_graph,
         arguments=lambda parser: parser.add_argument("--tf-python", required=True,
                                                      help="python of a venv with DeePMD-kit's TensorFlow backend"))
