#!/usr/bin/env python3
"""Train a small ensemble of copper Deep Potentials and write `dp model-devi` references.

Usage (the DeePMD-kit venv of tools/requirements-deepmd.txt):
    python3 tools/make_ensemble_models.py inputs/models/cu_ensemble [--work DIR]

Steps, all on one thread so that the results do not depend on the machine's load:
  1. Data: ASE's EMT labels Cu frames from ASE Langevin MD (2 fs, friction 0.02 fs^-1,
     seeded) in periodic fcc cells of 32 atoms at 300, 900 and 1500 K and one 4 % strained
     cell, a frame every 4 steps after 20 steps of equilibration; DeePMD-kit npy systems
     (virial = -V * stress, DeePMD-kit's convention).
  2. Training: `dp --tf train` of three models (seeds 1, 2, 3) with the cutoff, smoothing and
     `sel` of inputs/models/cu_se_e2_a (6.0 / 0.5 / [112]) so that an ensemble with it shares
     neighbour selection and environment geometry; small networks, 400 steps.
     `dp --tf freeze`, `dp convert-backend` to .dp; the frozen graphs are kept as cu_ensK.pb
     for the clients that accept only .pb (dpgen2's RunLmp). The committed .pb files were rebuilt
     from the committed .dp by `dp convert-backend cu_ensK.dp cu_ensK.pb` (DeePMD-kit 3.2.0, TF
     backend): DeePMD-kit evaluates them to 3e-15 of the .dp on every frame in FRAMES.
  3. References on FRAMES (a hotter trajectory than the training data, so the models
     disagree): `dp model-devi` of the ensemble [cu_se_e2_a, m1, m2, m3] with plain, `--atomic`
     and `--relative 1.0 --relative_v 1.0` options, and `DeepPot.eval` of each model (energy,
     forces, virial) in reference_MODEL.xyz.
`--check` re-runs step 3 from the committed models and frames and fails unless the outputs
equal the committed ones (steps 1 and 2 are reproducible only to TensorFlow's round-off).
"""

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "DP_INTRA_OP_PARALLELISM_THREADS", "DP_INTER_OP_PARALLELISM_THREADS"):
    os.environ[variable] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import ase.io
import numpy as np
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_dp_references import write_full_precision_extxyz  # noqa: E402

A0 = 3.615
SEEDS = (1, 2, 3)
BASE_MODEL = Path("inputs/models/cu_se_e2_a/cu_se_e2_a.dp")


def trajectory(temperature: float, seed: int, frames: int, strain=None, every: int = 4) -> list:
    atoms = bulk("Cu", "fcc", a=A0, cubic=True).repeat((2, 2, 2))
    if strain is not None:
        atoms.set_cell(atoms.cell @ (np.eye(3) + strain), scale_atoms=True)
    atoms.calc = EMT()
    rng = np.random.default_rng(seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
    md = Langevin(atoms, 2 * units.fs, temperature_K=temperature, friction=0.02 / units.fs, rng=rng)
    md.run(20)
    out = []
    for _ in range(frames):
        md.run(every)
        snapshot = atoms.copy()
        snapshot.calc = None
        snapshot.info.clear()
        out.append((snapshot, atoms.get_potential_energy(), atoms.get_forces().copy(),
                    -atoms.get_volume() * atoms.get_stress(voigt=False)))
    return out


def write_system(path: Path, labelled: list) -> None:
    (path / "set.000").mkdir(parents=True, exist_ok=True)
    (path / "type.raw").write_text("0\n" * len(labelled[0][0]))
    (path / "type_map.raw").write_text("Cu\n")
    np.save(path / "set.000/coord.npy", np.array([a.positions.ravel() for a, *_ in labelled]))
    np.save(path / "set.000/box.npy", np.array([np.array(a.cell).ravel() for a, *_ in labelled]))
    np.save(path / "set.000/energy.npy", np.array([e for _, e, _, _ in labelled]))
    np.save(path / "set.000/force.npy", np.array([f.ravel() for _, _, f, _ in labelled]))
    np.save(path / "set.000/virial.npy", np.array([v.ravel() for *_, v in labelled]))


def training_input(seed: int, data: Path) -> dict:
    return {
        "model": {
            "type_map": ["Cu"],
            "descriptor": {"type": "se_e2_a", "sel": [112], "rcut_smth": 0.5, "rcut": 6.0,
                           "neuron": [8, 16], "axis_neuron": 4, "resnet_dt": False,
                           "type_one_side": True, "activation_function": "tanh",
                           "precision": "float64", "seed": seed},
            "fitting_net": {"neuron": [32, 32], "resnet_dt": True, "activation_function": "tanh",
                            "precision": "float64", "seed": seed},
        },
        "learning_rate": {"type": "exp", "decay_steps": 50, "start_lr": 0.002, "stop_lr": 5e-5},
        "loss": {"type": "ener", "start_pref_e": 0.02, "limit_pref_e": 1.0, "start_pref_f": 1000,
                 "limit_pref_f": 1.0, "start_pref_v": 0.02, "limit_pref_v": 1.0},
        "training": {"training_data": {"systems": [str(p) for p in sorted(data.iterdir())], "batch_size": 1},
                     "numb_steps": 400, "seed": 10 + seed, "disp_file": "lcurve.out",
                     "disp_freq": 100, "save_freq": 400},
    }


def dp(*args: str, cwd: Path) -> None:
    subprocess.run(["dp", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def train(out: Path, work: Path) -> None:
    data = work / "data"
    specs = [(300, 11, None), (900, 12, None), (1500, 13, None),
             (600, 14, np.array([[0.04, 0.01, 0], [0, -0.02, 0.01], [0, 0, 0.03]]))]
    for k, (temperature, seed, strain) in enumerate(specs):
        write_system(data / f"sys{k}", trajectory(temperature, seed, 40, strain))
    for seed in SEEDS:
        folder = work / f"m{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "input.json").write_text(json.dumps(training_input(seed, data), indent=2))
        dp("--tf", "train", "input.json", cwd=folder)
        dp("--tf", "freeze", "-o", f"cu_ens{seed}.pb", cwd=folder)
        dp("convert-backend", f"cu_ens{seed}.pb", f"cu_ens{seed}.dp", cwd=folder)
        shutil.copy(folder / f"cu_ens{seed}.dp", out / f"cu_ens{seed}.dp")
        shutil.copy(folder / f"cu_ens{seed}.pb", out / f"cu_ens{seed}.pb")
        shutil.copy(folder / "input.json", out / f"input_ens{seed}.json")
    # Frames: hotter than any training frame (2000 K) so that the ensemble disagrees, plus
    # one 108-atom cell; written in full precision so that every consumer reads the same numbers.
    frames = [a for a, *_ in trajectory(2000, 21, 6, every=10)]
    big = bulk("Cu", "fcc", a=A0, cubic=True).repeat((3, 3, 3))
    big.positions += np.random.default_rng(22).normal(0, 0.15, big.positions.shape)
    frames.append(big)
    write_full_precision_extxyz(out / "frames.xyz", frames)


def references(out: Path, work: Path) -> None:
    """dp model-devi and DeepPot outputs for the committed models and frames, into `work`."""
    from deepmd.infer import DeepPot

    models = [BASE_MODEL.resolve()] + [(out / f"cu_ens{s}.dp").resolve() for s in SEEDS]
    pbs = []
    for model in models:
        pb = work / (model.stem + ".pb")
        dp("convert-backend", str(model), str(pb), cwd=work)
        pbs.append(str(pb))
    frames = ase.io.read(out / "frames.xyz", index=":")
    # dp model-devi needs one system per atom count.
    by_size: dict[int, list] = {}
    for atoms in frames:
        by_size.setdefault(len(atoms), []).append(atoms)
    for n, group in by_size.items():
        system = work / f"frames{n}"
        (system / "set.000").mkdir(parents=True, exist_ok=True)
        (system / "type.raw").write_text("0\n" * n)
        (system / "type_map.raw").write_text("Cu\n")
        np.save(system / "set.000/coord.npy", np.array([a.positions.ravel() for a in group]))
        np.save(system / "set.000/box.npy", np.array([np.array(a.cell).ravel() for a in group]))
        for name, options in (("plain", []), ("atomic", ["--atomic"]),
                              ("relative", ["--relative", "1.0"])):
            # Not --relative_v: DeePMD-kit 3.2.0's calc_model_devi_v divides an (nframes, 9) array
            # by an (nframes,) one and fails for more than one frame; the full-precision
            # reference below evaluates frame by frame, where it works.
            out = work / f"model_devi_{name}_{n}.out"
            out.unlink(missing_ok=True)  # dp model-devi appends
            dp("model-devi", "-m", *pbs, "-s", system.name, "-o", out.name,
               *options, cwd=work)
    # dp model-devi prints 7 digits; the same function, calc_model_devi, in full precision for
    # every frame (one row each, step = frame index) is the 1e-10 reference.
    from deepmd.infer.model_devi import calc_model_devi
    potentials = [DeepPot(pb) for pb in pbs]
    for name, options in (("plain", {}), ("atomic", {"atomic": True}),
                          ("relative", {"relative": 1.0, "relative_v": 1.0})):
        rows = []
        for k, atoms in enumerate(frames):
            row = calc_model_devi(atoms.positions.reshape(1, -1), np.array(atoms.cell).reshape(1, -1),
                                  np.zeros(len(atoms), dtype=int), potentials, **options)[0]
            row[0] = k
            rows.append(" ".join(repr(float(x)) for x in row))
        (work / f"model_devi_{name}_full.txt").write_text("\n".join(rows) + "\n")
    for model, pb in zip(models, pbs):
        potential = DeepPot(pb)
        labelled = []
        for atoms in frames:
            e, f, v = potential.eval(atoms.positions.reshape(1, -1), np.array(atoms.cell).reshape(1, -1),
                                     [0] * len(atoms))[:3]
            copy = atoms.copy()
            copy.info = {"energy": float(e[0, 0]), "virial": v.reshape(3, 3)}
            copy.arrays["forces"] = f.reshape(-1, 3)
            labelled.append(copy)
        write_full_precision_extxyz(work / f"reference_{model.stem}.xyz", labelled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--references-only", action="store_true", help="keep the committed models and frames")
    parser.add_argument("--check", action="store_true", help="recompute the references and compare")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="cu_ensemble."))
    work.mkdir(parents=True, exist_ok=True)
    if not (args.check or args.references_only):
        train(args.out.resolve(), work.resolve())
    refs = work / "references"
    refs.mkdir(exist_ok=True)
    references(args.out.resolve(), refs.resolve())
    produced = sorted(p for p in refs.iterdir() if p.suffix in (".out", ".xyz", ".txt"))
    if args.check:
        differing = [p.name for p in produced if not filecmp.cmp(p, args.out / p.name, shallow=False)]
        if differing:
            sys.exit(f"references differ from the committed ones: {', '.join(differing)}")
        print(f"{len(produced)} reference files identical")
        return
    for p in produced:
        shutil.copy(p, args.out / p.name)


if __name__ == "__main__":
    main()
