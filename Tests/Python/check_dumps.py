"""Reads Tessera's dumps with the real readers (ASE, MDAnalysis, h5py) and checks them against the
engine's own full-precision values: the `custom` dump written with %.17g (ids, positions, image flags,
velocities, forces) and the `write_data` file of the last step (box). Run by EndToEndTests/ReaderTests
in the directory of a finished run:

    check_dumps.py DT STEPS EVERY

Prints one line per failed check and exits 1 if any failed, else prints OK.
"""
import sys
import warnings

import ase.io
import ase.units
import h5py
import MDAnalysis as mda
import numpy as np

# MDAnalysis's LAMMPS dump reader warns that text dumps carry no timestep.
warnings.filterwarnings("ignore", message="Reader has no dt information")
dt, steps, every = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def close(actual, expected, what, tolerance=1e-12):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape != expected.shape:
        failures.append(f"{what}: shape {actual.shape}, expected {expected.shape}")
        return
    error = np.max(np.abs(actual - expected) / (np.abs(expected) + 1.0)) if actual.size else 0.0
    check(error <= tolerance, f"{what}: relative error {error:.3g} above {tolerance:g}")


def custom_frames(path):
    """The engine's values per frame: step, box bounds lines, rows sorted by id."""
    frames = []
    for block in open(path).read().split("ITEM: TIMESTEP\n")[1:]:
        lines = block.splitlines()
        rows = np.array([[float(x) for x in line.split()] for line in lines[8:] if line.strip()])
        frames.append((int(lines[0]), rows[np.argsort(rows[:, 0])]))
    return frames


def data_box(path):
    """Edge vectors (rows a, b, c) and origin from a write_data file."""
    lo, hi, tilt = [0.0] * 3, [0.0] * 3, [0.0] * 3
    for line in open(path):
        words = line.split()
        for k, axis in enumerate("xyz"):
            if words[-2:] == [f"{axis}lo", f"{axis}hi"]:
                lo[k], hi[k] = float(words[0]), float(words[1])
        if words[-3:] == ["xy", "xz", "yz"]:
            tilt = [float(w) for w in words[:3]]
    length = np.subtract(hi, lo)
    return np.array([[length[0], 0, 0], [tilt[0], length[1], 0], [tilt[1], tilt[2], length[2]]]), np.array(lo)


# Columns of dump.custom: id type x y z ix iy iz vx vy vz fx fy fz
frames = custom_frames("dump.custom")
check([s for s, _ in frames] == list(range(0, steps + 1, every)), f"custom dump steps {[s for s, _ in frames]}")
cell, origin = data_box("final.data")
final = frames[-1][1]
ids = final[:, 0].astype(int)
positions, images, velocities, forces = final[:, 2:5], final[:, 5:8], final[:, 8:11], final[:, 11:14]
check(np.any(images != 0), "no atom crossed the box: image flags would go unchecked")
triclinic = bool(cell[1, 0] or cell[2, 0] or cell[2, 1])
# ASE stores velocities in its own units; the decks run in LAMMPS `metal` units (Å/ps).
ase_velocity = 1 / (1000 * ase.units.fs)

# ASE, LAMMPS text dump: atoms ordered by id, cell from the bounds and tilts.
atoms = ase.io.read("dump.custom", index=-1, format="lammps-dump-text")
close(atoms.cell[:], cell, "ASE custom dump: cell")
close(atoms.get_positions(), positions, "ASE custom dump: positions")
close(atoms.get_velocities(), velocities * ase_velocity, "ASE custom dump: velocities")
close(atoms.get_forces(), forces, "ASE custom dump: forces")
check(len(ase.io.read("dump.custom", index=":", format="lammps-dump-text")) == len(frames), "ASE custom dump: frame count")

# ASE, extended XYZ: positions relative to the box origin, ids, lattice, pbc.
xyz = ase.io.read("dump.xyz", index=":", format="extxyz")
check(len(xyz) == len(frames), f"ASE extxyz: {len(xyz)} frames, expected {len(frames)}")
last = xyz[-1]
check(last.info.get("step") == steps, f"ASE extxyz: step {last.info.get('step')}")
close(last.arrays["id"], ids, "ASE extxyz: ids")
close(last.cell[:], cell, "ASE extxyz: cell")
check(list(last.pbc) == [True] * 3, "ASE extxyz: pbc")
close(last.get_positions() + origin, positions, "ASE extxyz: positions")
close(last.arrays["velocities"], velocities, "ASE extxyz: velocities")
close(last.get_forces(), forces, "ASE extxyz: forces")
check(set(last.get_chemical_symbols()) == {"Ar"}, "ASE extxyz: species")

# MDAnalysis, LAMMPS dump (a custom dump with unscaled coordinates, velocities and forces).
u = mda.Universe("final.data", "dump.custom", topology_format="DATA", format="LAMMPSDUMP", atom_style="id type x y z")
check(u.trajectory.n_frames == len(frames), "MDAnalysis LAMMPSDUMP: frame count")
u.trajectory[-1]
close(u.atoms.ids, ids, "MDAnalysis LAMMPSDUMP: ids")
# MDAnalysis keeps coordinates in float32.
close(u.atoms.positions, positions, "MDAnalysis LAMMPSDUMP: positions", 1e-6)
close(u.atoms.velocities, velocities, "MDAnalysis LAMMPSDUMP: velocities", 1e-6)
close(u.atoms.forces, forces, "MDAnalysis LAMMPSDUMP: forces", 1e-6)
close(u.trajectory.ts.triclinic_dimensions, cell, "MDAnalysis LAMMPSDUMP: box", 1e-6)

# MDAnalysis, H5MD: rows in id order, box from the edge vectors.
u = mda.Universe("final.data", "traj.h5md", topology_format="DATA", format="H5MD", convert_units=False,
                 atom_style="id type x y z")
check(u.trajectory.n_frames == len(frames), "MDAnalysis H5MD: frame count")
for ts, (step, rows) in zip(u.trajectory, frames):
    check(ts.data["step"] == step, f"MDAnalysis H5MD: step {ts.data['step']}, expected {step}")
    close(ts.time, step * dt, f"MDAnalysis H5MD: time at step {step}")
    close(u.atoms.positions, rows[:, 2:5], f"MDAnalysis H5MD: positions at step {step}", 1e-6)
    close(u.atoms.velocities, rows[:, 8:11], f"MDAnalysis H5MD: velocities at step {step}", 1e-6)
    close(u.atoms.forces, rows[:, 11:14], f"MDAnalysis H5MD: forces at step {step}", 1e-6)
close(u.atoms.ids, ids, "MDAnalysis H5MD: ids")
close(u.trajectory.ts.triclinic_dimensions, cell, "MDAnalysis H5MD: box", 1e-6)

# h5py: the H5MD 1.1 layout, exact values.
with h5py.File("traj.h5md", "r") as f:
    check(list(f["h5md"].attrs["version"]) == [1, 1], "h5md version")
    check(f["h5md/author"].attrs["name"] == "Tessera tests", "h5md author name")
    check(f["h5md/creator"].attrs["name"] == "Tessera", "h5md creator name")
    check("version" in f["h5md/creator"].attrs, "h5md creator version")
    box = f["particles/all/box"]
    check(box.attrs["dimension"] == 3, "box dimension")
    check(list(box.attrs["boundary"]) == ["periodic"] * 3, f"box boundary {box.attrs['boundary']}")
    n, nframes = len(ids), len(frames)
    expected_steps = [s for s, _ in frames]
    shapes = {"position": (nframes, n, 3), "image": (nframes, n, 3), "velocity": (nframes, n, 3),
              "force": (nframes, n, 3), "species": (nframes, n)}
    for name, shape in shapes.items():
        element = f[f"particles/all/{name}"]
        check(element["value"].shape == shape, f"{name}/value shape {element['value'].shape}, expected {shape}")
        check(element["value"].maxshape[0] is None, f"{name}/value is not extendable in time")
        check(element["value"].chunks is not None, f"{name}/value is not chunked")
        check(list(element["step"][:]) == expected_steps, f"{name}/step {list(element['step'][:])}")
        close(element["time"][:], np.array(expected_steps) * dt, f"{name}/time")
    check(f["particles/all/image/value"].dtype.kind == "i", "image values are not integers")
    check(f["particles/all/species/value"].dtype.kind == "i", "species values are not integers")
    for k, (step, rows) in enumerate(frames):
        close(f["particles/all/position/value"][k], rows[:, 2:5], f"h5py position at step {step}", 0)
        close(f["particles/all/image/value"][k], rows[:, 5:8], f"h5py image at step {step}", 0)
        close(f["particles/all/velocity/value"][k], rows[:, 8:11], f"h5py velocity at step {step}", 0)
        close(f["particles/all/force/value"][k], rows[:, 11:14], f"h5py force at step {step}", 0)
        close(f["particles/all/species/value"][k], rows[:, 1], f"h5py species at step {step}", 0)
    edges = f["particles/all/box/edges/value"]
    check(edges.shape == ((nframes, 3, 3) if triclinic else (nframes, 3)), f"edges shape {edges.shape}")
    close(edges[-1], cell if triclinic else np.diag(cell), "h5py box edges")
    check(list(f["particles/all/box/edges/step"][:]) == expected_steps, "edges/step")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("OK")
