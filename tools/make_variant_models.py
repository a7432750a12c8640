#!/usr/bin/env python3
"""Build small synthetic DeePMD-kit models that exercise what the trained models do not.

Usage:
    python3 -m venv .venv-deepmd && .venv-deepmd/bin/pip install -r tools/requirements-deepmd.txt
    .venv-deepmd/bin/python3 tools/make_variant_models.py inputs/models/variants

For each entry of VARIANTS it writes OUT/NAME/NAME.dp and OUT/NAME/reference.xyz. The models
in inputs/models were trained by the TensorFlow backend and share its defaults; these are
untrained energy models with the se_e2_a descriptor and random weights, each combining
features those lack: type_one_side true and false, descriptor exclude_types, model-level
pair_exclude_types and atom_exclude_types, env_protection, resnet_dt, atom_ener, every
activation function, and embedding and fitting widths that give each kind of residual.

Models (spec §11.2.3): `get_model` of the DP (NumPy) backend builds each from a model-section
dict with fixed seeds; the descriptor statistics davg/dstd and the biases out_bias and
bias_atom_e are then replaced by seeded random values (see `randomize_statistics`), and
`save_dp_model` writes the .dp. A .dp whose content (everything but the "time" stamp) equals
the stored one is left untouched, so a rerun changes no file.

References, for three configurations per model (see `CONFIGURATIONS`):
  * energy and per-atom energies: `DeepPot(NAME.dp).eval(..., atomic=True)`, the NumPy
    backend, which is the normative implementation but returns NaN forces and virials;
  * forces, virial and per-atom virial (`source=tf` in the frame): `dp convert-backend NAME.dp
    NAME.pb` and `DeepPot(NAME.pb)`, accepted only if the TensorFlow energies and per-atom
    energies equal the NumPy ones to 1e-12 relative in every frame;
  * otherwise (`source=numpy+fd`; TensorFlow refuses some features and evaluates others
    differently, the reason is printed): forces and virial by central finite differences of
    the NumPy energy (`finite_differences`), no per-atom virial. For source=tf models the
    same differences are computed and their largest deviation from TensorFlow printed, as a
    check of the difference scheme and of the virial convention.
All evaluations are float64 on one thread (see below).
"""

import argparse
import copy
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# TensorFlow's multithreaded reductions change the last bits from run to run; on one thread
# the results are reproducible. These must be set before TensorFlow is loaded, and the `dp`
# subprocesses inherit them.
for variable in ("OMP_NUM_THREADS", "DP_INTRA_OP_PARALLELISM_THREADS", "DP_INTER_OP_PARALLELISM_THREADS"):
    os.environ[variable] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import ase.io
import h5py
import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

from deepmd.dpmodel.model.model import get_model
from deepmd.dpmodel.utils.serialization import save_dp_model
from deepmd.infer import DeepPot
from make_dp_references import write_full_precision_extxyz

TOLERANCE = 1e-12  # relative agreement required between TensorFlow and NumPy energies
FD_STEP = 1e-5  # Å, and strain; see `finite_differences`
MIN_DISTANCE = 1.3  # Å, hard core of the random structures
MARGIN = 1e-3  # Å, see `neighbour_counts`


@dataclass(frozen=True)
class Variant:
    name: str
    seed: int
    type_map: list[str]
    descriptor: dict  # se_e2_a arguments (type, precision and seed are added)
    fitting: dict  # energy fitting arguments (type, precision and seed are added)
    model: dict = field(default_factory=dict)  # model-level keys: pair/atom_exclude_types
    # davg[..., 1:4] != 0 and dstd[..., 1], [2], [3] unequal: the energy is then not
    # rotation invariant and the virial not symmetric, which exposes transposed indices.
    anisotropic: bool = False
    # range of dstd[..., 0]; smaller values give larger normalised radial inputs s^ to the
    # embedding nets (the relu6 model needs some above 6)
    radial_dstd: tuple[float, float] = (0.1, 0.4)

    def model_section(self) -> dict:
        return {
            "type_map": self.type_map,
            "descriptor": {"type": "se_e2_a", **self.descriptor, "precision": "float64", "seed": self.seed},
            "fitting_net": {"type": "ener", **self.fitting, "precision": "float64", "seed": self.seed + 1},
            **self.model,
        }

    @property
    def rcut(self) -> float:
        return self.descriptor["rcut"]

    @property
    def sel(self) -> list[int]:
        return self.descriptor["sel"]


# Residuals (spec §4.2): embedding [2,4,8] doubles from the first layer (1→2), [4,4] adds the
# identity on its second layer, [3,5] has none. In the fitting net a hidden layer adds its
# input if it has the same width (or doubles it if twice as wide); the first hidden layer
# follows the same rule against dim_descrpt = neuron[-1]·axis_neuron.
# rcut and rcut_smth are binary fractions wherever TensorFlow could evaluate the model: its
# ops take them as float32 attributes, so 4.2 would move its energies by ~1e-8 relative.
# fitting_residuals, which TensorFlow cannot evaluate anyway, has 3.8 and 1.2 on purpose.
VARIANTS = [
    Variant(
        "one_side_gelu_relu", 101, ["O", "H"],
        {"rcut": 4.0, "rcut_smth": 1.0, "sel": [4, 12], "neuron": [2, 4, 8], "axis_neuron": 2,
         "type_one_side": True, "resnet_dt": True, "activation_function": "gelu"},
        {"neuron": [8, 8], "resnet_dt": True, "activation_function": "relu"},
    ),
    Variant(
        "two_side_relu6_sigmoid", 202, ["Ga", "N", "In"],
        {"rcut": 4.5, "rcut_smth": 1.5, "sel": [4, 6, 8], "neuron": [3, 5], "axis_neuron": 3,
         "type_one_side": False, "activation_function": "relu6"},
        {"neuron": [8, 8], "resnet_dt": False, "activation_function": "sigmoid"},
        anisotropic=True, radial_dstd=(0.02, 0.06),
    ),
    Variant(
        "atom_ener_silut_softplus", 303, ["O", "H"],
        {"rcut": 3.5, "rcut_smth": 0.5, "sel": [6, 10], "neuron": [4, 4], "axis_neuron": 3,
         "type_one_side": False, "resnet_dt": True, "activation_function": "silut:1.0"},
        {"neuron": [6, 6], "resnet_dt": True, "activation_function": "softplus", "atom_ener": [-1.5, None]},
        anisotropic=True,
    ),
    Variant(
        "one_side_linear_tanh", 404, ["C", "H", "N"],
        {"rcut": 4.25, "rcut_smth": 0.75, "sel": [5, 5, 8], "neuron": [2, 4, 8], "axis_neuron": 4,
         "type_one_side": True, "activation_function": "linear"},
        {"neuron": [8, 8], "resnet_dt": True, "activation_function": "tanh"},
    ),
    Variant(
        "exclude_protection_two_side", 505, ["O", "H"],
        {"rcut": 4.0, "rcut_smth": 0.5, "sel": [6, 10], "neuron": [2, 4, 8], "axis_neuron": 2,
         "type_one_side": False, "resnet_dt": True, "activation_function": "custom_silu:1.5",
         "exclude_types": [[0, 1]], "env_protection": 0.3},
        {"neuron": [8, 8], "resnet_dt": True, "activation_function": "gelu_tf"},
        anisotropic=True,
    ),
    Variant(
        "exclusions_one_side", 606, ["Si", "O", "C"],
        {"rcut": 4.5, "rcut_smth": 1.0, "sel": [8, 4, 6], "neuron": [2, 4, 8], "axis_neuron": 2,
         "type_one_side": True, "activation_function": "silu",
         "exclude_types": [[1, 2]], "env_protection": 0.3},
        {"neuron": [8, 8], "resnet_dt": True, "activation_function": "tanh"},
        {"pair_exclude_types": [[0, 2]], "atom_exclude_types": [1]},
    ),
    Variant(
        "fitting_residuals", 707, ["O", "H"],
        {"rcut": 3.8, "rcut_smth": 1.2, "sel": [10, 5], "neuron": [4, 4], "axis_neuron": 2,
         "type_one_side": False, "resnet_dt": True, "activation_function": "sigmoid"},
        {"neuron": [8, 16], "resnet_dt": True, "activation_function": "gelu"},
        {"pair_exclude_types": [[1, 1]]},
        anisotropic=True,
    ),
]


def build_model(variant: Variant):
    model = get_model(copy.deepcopy(variant.model_section()))
    randomize_statistics(model, np.random.default_rng(variant.seed), variant)
    return model


def randomize_statistics(model, rng: np.random.Generator, variant: Variant) -> None:
    """Replace davg/dstd, out_bias and bias_atom_e (zeros and ones after get_model).

    The statistics differ from slot to slot, unlike those of trained models (constant per
    centre type and neighbour-type section), so an engine must index them by slot. davg[..., 0]
    is positive: a padding slot's normalised row -davg/dstd is then non-zero and contributes.
    """
    atomic = model.atomic_model
    descriptor = atomic.descriptor
    ntypes, nnei, _ = descriptor.davg.shape
    davg = np.zeros((ntypes, nnei, 4))
    dstd = np.empty((ntypes, nnei, 4))
    davg[..., 0] = rng.uniform(0.05, 0.3, (ntypes, nnei))
    dstd[..., 0] = rng.uniform(*variant.radial_dstd, (ntypes, nnei))
    if variant.anisotropic:
        davg[..., 1:] = rng.normal(0.0, 0.05, (ntypes, nnei, 3))
        dstd[..., 1:] = rng.uniform(0.1, 0.4, (ntypes, nnei, 3))
    else:
        dstd[..., 1:] = rng.uniform(0.1, 0.4, (ntypes, nnei, 1))
    descriptor.davg, descriptor.dstd = davg, dstd
    atomic.out_bias = rng.normal(0.0, 1.0, atomic.out_bias.shape)
    atomic.fitting_net.bias_atom_e = rng.normal(0.0, 1.0, atomic.fitting_net.bias_atom_e.shape)


def model_content(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The JSON document without its write time, and the datasets, of a .dp file."""
    with h5py.File(path, "r") as f:
        document = json.loads(f.attrs["json"])
        document.pop("time")
        return document, {name: f[name][()] for name in f}


def write_model(variant: Variant, model, path: Path, work: Path) -> None:
    new = work / path.name
    document = {"backend": "DP", "model": model.serialize(), "model_def_script": variant.model_section()}
    save_dp_model(str(new), document)
    if path.exists():
        (old_doc, old_arrays), (new_doc, new_arrays) = model_content(path), model_content(new)
        if old_doc == new_doc and old_arrays.keys() == new_arrays.keys() and all(
            np.array_equal(old_arrays[k], new_arrays[k]) for k in old_arrays
        ):
            return
    shutil.move(new, path)


# ---------------------------------------------------------------------------------------
# Configurations


def shortest_image(r: np.ndarray, cell: np.ndarray | None) -> float:
    """Length of the shortest periodic image of the vector r."""
    if cell is None:
        return float(np.linalg.norm(r))
    fractional = r @ np.linalg.inv(cell)
    reduced = (fractional - np.round(fractional)) @ cell
    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3))) @ cell
    return float(np.min(np.linalg.norm(reduced + shifts, axis=1)))


def place_atoms(rng: np.random.Generator, n: int, draw, cell: np.ndarray | None) -> np.ndarray:
    """Random sequential addition: draw positions until each is MIN_DISTANCE from those kept."""
    positions = []
    while len(positions) < n:
        x = draw(rng)
        if all(shortest_image(x - p, cell) >= MIN_DISTANCE for p in positions):
            positions.append(x)
    return np.array(positions)


# A structure generator returns (types, positions, cell or None, whether it must overflow).
Structure = tuple[np.ndarray, np.ndarray, np.ndarray | None, bool]


def shuffled_types(rng: np.random.Generator, counts: list[int]) -> np.ndarray:
    # atoms of one type are not stored contiguously, so an engine cannot rely on that
    return rng.permutation(np.repeat(np.arange(len(counts)), counts))


def small_triclinic(rng: np.random.Generator, v: Variant) -> Structure:
    """Triclinic cell with edges 1.15-1.45 rcut, shorter than 2·rcut: an atom sees several
    periodic images of some others; no overflow. Fractional coordinates range over
    [-0.25, 1.25), so some atoms lie outside the cell and must be wrapped."""
    cell = np.diag(rng.uniform(1.15, 1.45, 3) * v.rcut)
    cell[1, 0], cell[2, 0], cell[2, 1] = rng.uniform(-0.3, 0.3, 3) * v.rcut
    types = shuffled_types(rng, [max(2, s // 3) for s in v.sel])
    return types, place_atoms(rng, len(types), lambda r: r.uniform(-0.25, 1.25, 3) @ cell, cell), cell, False


def dense_cubic(rng: np.random.Generator, v: Variant) -> Structure:
    """Cubic cell of edge 2·rcut + 1 Å holding as many atoms of the type with the smallest sel
    as give on average sel + 1.5 neighbours of that type inside rcut (0.45 sel for the other
    types): some atoms have more neighbours of that type than sel (overflow)."""
    edge = 2 * v.rcut + 1.0
    atoms_per_neighbour = edge**3 / (4 / 3 * np.pi * v.rcut**3)
    crowded = int(np.argmin(v.sel))
    counts = [round((s + 1.5 if t == crowded else 0.45 * s) * atoms_per_neighbour) for t, s in enumerate(v.sel)]
    cell = np.eye(3) * edge
    types = shuffled_types(rng, counts)
    return types, place_atoms(rng, len(types), lambda r: r.uniform(0.0, edge, 3), cell), cell, True


def cluster(rng: np.random.Generator, v: Variant) -> Structure:
    """Non-periodic: atoms in a ball of radius 0.8 rcut, and one more atom of type 0 farther
    than rcut from all (its environment is all padding); no overflow."""
    radius = 0.8 * v.rcut

    def draw(r: np.random.Generator) -> np.ndarray:
        while True:
            x = r.uniform(-radius, radius, 3)
            if np.linalg.norm(x) <= radius:
                return x

    types = shuffled_types(rng, [max(2, s // 2) for s in v.sel])
    positions = place_atoms(rng, len(types), draw, None)
    isolated = [radius + v.rcut + 1.0, 0.0, 0.0]
    return np.append(types, 0), np.vstack([positions, isolated]), None, False


CONFIGURATIONS = {"small_triclinic": small_triclinic, "dense_cubic": dense_cubic, "cluster": cluster}


def atom_types(atoms: Atoms, type_map: list[str]) -> np.ndarray:
    return np.array([type_map.index(s) for s in atoms.get_chemical_symbols()])


def neighbour_counts(atoms: Atoms, v: Variant) -> np.ndarray | None:
    """Neighbours of each type inside rcut per atom, or None if the structure is ambiguous.

    Which slot a neighbour takes matters (davg/dstd vary per slot), and on overflow so does
    which neighbours are dropped. A structure is kept only if the answer cannot depend on
    tie-breaking, round-off or the finite-difference steps, and is the same in DeePMD-kit's
    Python and TensorFlow neighbour lists (spec §2.4):
      * no distance within MARGIN of rcut;
      * among the sel[t] + 1 nearest neighbours of each type, consecutive distances differ by
        at least MARGIN (this also rules out the ± pairs of an atom's own periodic images);
      * at most nnei = Σ sel neighbours in all: the Python path keeps the nnei nearest of all
        types before it cuts each type to its sel[t] nearest, the TensorFlow path only cuts
        each type; they agree when the total fits.
    """
    atype = atom_types(atoms, v.type_map)
    i, j, d = neighbor_list("ijd", atoms, v.rcut + MARGIN)
    if np.any(np.abs(d - v.rcut) < MARGIN):
        return None
    counts = np.zeros((len(atoms), len(v.sel)), dtype=int)
    for a, t in itertools.product(range(len(atoms)), range(len(v.sel))):
        distances = np.sort(d[(i == a) & (atype[j] == t)])
        counts[a, t] = len(distances)
        if np.any(np.diff(distances[: v.sel[t] + 1]) < MARGIN):
            return None
    if np.any(counts.sum(axis=1) > sum(v.sel)):
        return None
    return counts


def configuration(name: str, v: Variant) -> Atoms:
    """The first structure, over seeds (variant seed, configuration, attempt), that passes
    `neighbour_counts` and overflows as wanted."""
    make = CONFIGURATIONS[name]
    for attempt in itertools.count():
        rng = np.random.default_rng([v.seed, list(CONFIGURATIONS).index(name), attempt])
        types, positions, cell, overflow = make(rng, v)
        atoms = Atoms([v.type_map[t] for t in types], positions, cell=cell, pbc=cell is not None)
        counts = neighbour_counts(atoms, v)
        if counts is not None and bool(np.any(counts > np.array(v.sel))) == overflow:
            atoms.info.update(config=name, overflow=overflow)
            return atoms


# ---------------------------------------------------------------------------------------
# Evaluation


def eval_args(atoms: Atoms, type_map: list[str]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    cells = atoms.cell.array.reshape(1, 9) if atoms.pbc.all() else None
    return atoms.positions.reshape(1, -1), cells, atom_types(atoms, type_map)


def evaluate(model: DeepPot, atoms: Atoms, type_map: list[str]) -> dict[str, np.ndarray]:
    e, f, v, ae, av = model.eval(*eval_args(atoms, type_map), atomic=True)
    n = len(atoms)
    return {
        "energy": e.reshape(()), "energies": ae.reshape(n), "forces": f.reshape(n, 3),
        "virial": v.reshape(3, 3), "atom_virial": av.reshape(n, 9),
    }


def finite_differences(model: DeepPot, atoms: Atoms, type_map: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Forces -∂E/∂x and virial W = -∂E/∂ε by central differences of `model`'s energy.

    The strain maps every position and cell row r to (1 + ε) r (spec §7.1). With FD_STEP =
    1e-5 the round-off of the energy, ~1e-16·|E|/step, dominates the truncation error
    ~step²·E''': 1e-10 to 1e-9 here. All displaced structures go to DeePMD-kit in one batch.
    """
    coords, cells, atype = eval_args(atoms, type_map)
    n = len(atoms)
    steps = []
    for k in range(3 * n):
        for sign in (1, -1):
            shifted = coords.copy()
            shifted[0, k] += sign * FD_STEP
            steps.append((shifted, cells))
    for alpha, beta in itertools.product(range(3), repeat=2):
        for sign in (1, -1):
            strain = np.eye(3)
            strain[alpha, beta] += sign * FD_STEP
            strained_cells = None if cells is None else (cells.reshape(3, 3) @ strain.T).reshape(1, 9)
            steps.append(((coords.reshape(n, 3) @ strain.T).reshape(1, -1), strained_cells))
    energies = model.eval(
        np.vstack([c for c, _ in steps]), None if cells is None else np.vstack([c for _, c in steps]), atype
    )[0].reshape(-1, 2)
    derivative = (energies[:, 0] - energies[:, 1]) / (2 * FD_STEP)
    return -derivative[: 3 * n].reshape(n, 3), -derivative[3 * n :].reshape(3, 3)


def tensorflow_model(dp_path: Path, work: Path) -> tuple[DeepPot | None, str]:
    """The frozen TensorFlow graph of a .dp, or None and the reason it cannot be built."""
    pb = work / f"{dp_path.stem}.pb"
    run = subprocess.run(
        [sys.executable, "-m", "deepmd", "convert-backend", str(dp_path.resolve()), pb.name],
        cwd=work, capture_output=True, text=True,
    )
    if run.returncode != 0:
        errors = [line for line in run.stderr.splitlines() if "Error:" in line]
        return None, f"dp convert-backend fails: {errors[-1].strip() if errors else run.stderr[-300:]}"
    return DeepPot(str(pb)), ""


def relative_deviation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def references(v: Variant, dp_path: Path, frames: list[Atoms], work: Path) -> tuple[list[dict], str, str]:
    """Results per frame, the source ("tf" or "numpy+fd") and a note for the log."""
    numpy_model = DeepPot(str(dp_path))
    results = []
    for atoms in frames:
        r = evaluate(numpy_model, atoms, v.type_map)
        r["fd_forces"], r["fd_virial"] = finite_differences(numpy_model, atoms, v.type_map)
        results.append(r)

    tf_model, why_not = tensorflow_model(dp_path, work)
    if tf_model is not None:
        tf_results = [evaluate(tf_model, atoms, v.type_map) for atoms in frames]
        worst = max(
            max(relative_deviation(t["energy"], r["energy"]), relative_deviation(t["energies"], r["energies"]))
            for t, r in zip(tf_results, results)
        )
        if worst > TOLERANCE:
            why_not = f"TensorFlow energies differ from NumPy by up to {worst:.1e} relative"
    if why_not:
        for r in results:
            r["forces"], r["virial"] = r["fd_forces"], r["fd_virial"]
            del r["atom_virial"]
        return results, "numpy+fd", why_not

    for r, t in zip(results, tf_results):
        r.update(forces=t["forces"], virial=t["virial"], atom_virial=t["atom_virial"])
    force_error = max(float(np.max(np.abs(r["fd_forces"] - r["forces"]))) for r in results)
    virial_error = max(float(np.max(np.abs(r["fd_virial"] - r["virial"]))) for r in results)
    return results, "tf", (
        f"TensorFlow energies agree to {worst:.1e} relative; finite differences differ from its "
        f"forces by up to {force_error:.1e} eV/Å and from its virial by {virial_error:.1e} eV"
    )


def write_reference(path: Path, frames: list[Atoms], results: list[dict], source: str) -> None:
    """Extended XYZ in the layout of inputs/models/*/fixtures/reference.xyz, plus the frame
    keys `source` and `overflow`; without the atom_virial column when source is numpy+fd."""
    out = []
    for atoms, r in zip(frames, results):
        a = Atoms(atoms.get_chemical_symbols(), atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        # info and array insertion order fixes the key and column order of the file;
        # "virial" is an ASE special 3x3 key, written column-major and read back as the matrix.
        a.info = {
            "energy": float(r["energy"]), "virial": r["virial"], "config": atoms.info["config"],
            "source": source, "overflow": atoms.info["overflow"],
        }
        for key in ("forces", "energies", "atom_virial"):
            if key in r:
                a.arrays[key] = r[key]
        out.append(a)
    write_full_precision_extxyz(path, out)

    for written, a in zip(ase.io.read(path, index=":"), out):
        same = (
            np.array_equal(written.positions, a.positions) and np.array_equal(written.cell.array, a.cell.array)
            and written.get_potential_energy() == a.info["energy"]
            and np.array_equal(written.info["virial"], a.info["virial"])
            and np.array_equal(written.get_forces(), a.arrays["forces"])
            and np.array_equal(written.get_potential_energies(), a.arrays["energies"])
            and ("atom_virial" not in a.arrays or np.array_equal(written.arrays["atom_virial"], a.arrays["atom_virial"]))
        )
        if not same:
            sys.exit(f"{path}: {a.info['config']} does not read back exactly")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="output folder, e.g. inputs/models/variants")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dp-variants-") as tmp:
        for v in VARIANTS:
            work = Path(tmp) / v.name
            work.mkdir()
            folder = args.out / v.name
            folder.mkdir(parents=True, exist_ok=True)
            dp_path = folder / f"{v.name}.dp"
            write_model(v, build_model(v), dp_path, work)
            frames = [configuration(name, v) for name in CONFIGURATIONS]
            results, source, note = references(v, dp_path, frames, work)
            write_reference(folder / "reference.xyz", frames, results, source)
            print(f"{v.name}: source={source} ({note}); {dp_path.stat().st_size} B")
            for atoms in frames:
                counts = neighbour_counts(atoms, v)
                print(
                    f"  {atoms.info['config']}: {len(atoms)} atoms, most neighbours per type "
                    f"{counts.max(axis=0).tolist()} (sel {v.sel}), overflow {atoms.info['overflow']}"
                )


if __name__ == "__main__":
    main()
