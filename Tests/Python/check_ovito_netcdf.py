"""Reads Tessera's dumps with OVITO (every style it reads: custom and atom text and binary, xyz,
extended XYZ, data file, NetCDF), its NetCDF trajectories also with MDAnalysis (NCDF), ASE and netCDF4,
and checks them against the engine's own full-precision values, the `custom` dump written with %.17g.
Run by EndToEndTests/ReaderTests in the directory of a finished run:

    check_ovito_netcdf.py DT STEPS EVERY

The run's files: dump.custom (reference: id type x y z ix iy iz vx vy vz fx fy fz), dump.bin (the same
fields, LAMMPS binary), dump.atom and dump.atom.bin (atom style, text %.17g and binary), dump.plain.xyz
(xyz, %.17g), dump.xyz (extxyz), final.data (write_data at the last step), traj.nc (netcdf, float) and
traj_mpiio.nc (netcdf/mpiio, float; the same fields), traj_double.nc (netcdf/mpiio, double yes: id type
x y z vx vy vz fx fy fz) and traj_mda.nc (netcdf, double yes: id type x y z vx vy vz, as MDAnalysis reads
no forces in eV/angstrom). Prints one line per failed check and exits 1 if any failed, else prints OK.
"""
import sys

import ase.io
import MDAnalysis as mda
import netCDF4
import numpy as np
from MDAnalysis.coordinates.TRJ import NCDFReader
from ovito.io import import_file

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


def reference_frames(path):
    """Per frame of the custom dump: step, cell (rows a, b, c), origin, rows sorted by id."""
    frames = []
    for block in open(path).read().split("ITEM: TIMESTEP\n")[1:]:
        lines = block.splitlines()
        bounds = [[float(x) for x in line.split()] for line in lines[4:7]]
        xy, xz, yz = (bounds[0][2], bounds[1][2], bounds[2][2]) if len(bounds[0]) == 3 else (0.0, 0.0, 0.0)
        xlo = bounds[0][0] - min(0, xy, xz, xy + xz)
        xhi = bounds[0][1] - max(0, xy, xz, xy + xz)
        ylo, yhi = bounds[1][0] - min(0, yz), bounds[1][1] - max(0, yz)
        zlo, zhi = bounds[2][0], bounds[2][1]
        cell = np.array([[xhi - xlo, 0, 0], [xy, yhi - ylo, 0], [xz, yz, zhi - zlo]])
        rows = np.array([[float(x) for x in line.split()] for line in lines[8:] if line.strip()])
        frames.append((int(lines[0]), cell, np.array([xlo, ylo, zlo]), rows[np.argsort(rows[:, 0])]))
    return frames


frames = reference_frames("dump.custom")
check([f[0] for f in frames] == list(range(0, steps + 1, every)), "reference steps")
n = len(frames[-1][3])
ID, TYPE, POS, IMG, VEL, FRC = 0, 1, slice(2, 5), slice(5, 8), slice(8, 11), slice(11, 14)


def ovito_frames(path, what, fields, tolerance=1e-12, last_only=False):
    """Every frame OVITO reads from `path` (a data file: the last), compared with the reference: ids,
    types, cell, and `fields` (OVITO property name, reference columns)."""
    pipeline = import_file(path)
    expected = frames[-1:] if last_only else frames
    count = pipeline.source.num_frames
    check(count == len(expected), f"OVITO {what}: {count} frames, expected {len(expected)}")
    for k, (step, cell, origin, rows) in enumerate(expected[:count]):
        data = pipeline.compute(k)
        particles = data.particles
        order = np.argsort(np.asarray(particles["Particle Identifier"]))
        if "Timestep" in data.attributes:
            check(data.attributes["Timestep"] == step, f"OVITO {what}: timestep {data.attributes['Timestep']}")
        close(np.asarray(particles["Particle Identifier"])[order], rows[:, ID], f"OVITO {what}: ids at step {step}", 0)
        close(np.asarray(particles["Particle Type"])[order], rows[:, TYPE], f"OVITO {what}: types at step {step}", 0)
        matrix = np.asarray(data.cell[...])
        close(matrix[:, :3].T, cell, f"OVITO {what}: cell at step {step}", max(tolerance, 1e-14))
        close(matrix[:, 3], origin, f"OVITO {what}: cell origin at step {step}", max(tolerance, 1e-14))
        for name, columns in fields:
            close(np.asarray(particles[name])[order], rows[:, columns], f"OVITO {what}: {name} at step {step}", tolerance)


everything = [("Position", POS), ("Velocity", VEL), ("Force", FRC)]
ovito_frames("dump.custom", "custom dump", everything + [("Periodic Image", IMG)])
ovito_frames("dump.bin", "binary custom dump", everything + [("Periodic Image", IMG)], 0)
ovito_frames("dump.atom", "atom dump", [("Position", POS)])
ovito_frames("dump.atom.bin", "binary atom dump", [("Position", POS)])
ovito_frames("final.data", "data file", [("Position", POS), ("Velocity", VEL), ("Periodic Image", IMG)],
             last_only=True)
ovito_frames("traj_double.nc", "netcdf/mpiio double", everything)
ovito_frames("traj.nc", "netcdf float", everything, 1e-6)

# xyz carries no ids: atoms come in id order (dumps sort by id); extended XYZ has them as a column.
for path, what, shift in [("dump.plain.xyz", "xyz dump", False), ("dump.xyz", "extxyz dump", True)]:
    options = {"columns": ["Particle Type", "Position.X", "Position.Y", "Position.Z"]} if not shift else {}
    pipeline = import_file(path, **options)
    check(pipeline.source.num_frames == len(frames), f"OVITO {what}: {pipeline.source.num_frames} frames")
    for k, (step, cell, origin, rows) in enumerate(frames):
        particles = pipeline.compute(k).particles
        close(np.asarray(particles.positions) + (origin if shift else 0), rows[:, POS], f"OVITO {what}: positions at step {step}")
        if shift:
            # OVITO maps extxyz's `forces` to Force but keeps `velocities` under its own name.
            close(np.asarray(particles["Particle Identifier"]), rows[:, ID], f"OVITO {what}: ids at step {step}", 0)
            close(np.asarray(particles["velocities"]), rows[:, VEL], f"OVITO {what}: velocities at step {step}")
            close(np.asarray(particles["Force"]), rows[:, FRC], f"OVITO {what}: forces at step {step}")

# MDAnalysis, NCDF (its reader takes no forces in eV/angstrom: traj_mda.nc has positions and velocities).
reader = NCDFReader("traj_mda.nc", convert_units=False)
check(reader.n_frames == len(frames), f"MDAnalysis NCDF: {reader.n_frames} frames")
for ts, (step, cell, origin, rows) in zip(reader, frames):
    close(ts.time, step * dt, f"MDAnalysis NCDF: time at step {step}", 1e-6)
    close(ts.positions, rows[:, POS], f"MDAnalysis NCDF: positions at step {step}", 1e-6)
    close(ts.velocities, rows[:, VEL], f"MDAnalysis NCDF: velocities at step {step}", 1e-6)
    close(ts.triclinic_dimensions, cell, f"MDAnalysis NCDF: box at step {step}", 1e-6)

# ASE's NetCDFTrajectory: atoms sorted by the id variable, cell from lengths and angles.
images = ase.io.read("traj_double.nc", index=":", format="netcdftrajectory")
check(len(images) == len(frames), f"ASE netcdf: {len(images)} frames")
for atoms, (step, cell, origin, rows) in zip(images, frames):
    close(atoms.cell[:], cell, f"ASE netcdf: cell at step {step}")
    close(atoms.get_positions(), rows[:, POS], f"ASE netcdf: positions at step {step}")
    close(atoms.get_velocities(), rows[:, VEL], f"ASE netcdf: velocities at step {step}")
    close(atoms.arrays["forces"], rows[:, FRC], f"ASE netcdf: forces at step {step}")

# netCDF4: the AMBER convention's required layout, exact values, float32 storage by default.
with netCDF4.Dataset("traj.nc") as f:
    check(f.file_format == "NETCDF3_64BIT_OFFSET", f"format {f.file_format}")
    check(f.Conventions == "AMBER" and f.ConventionVersion == "1.0", "Conventions/ConventionVersion")
    check(f.program == "Tessera" and len(f.programVersion) > 0, "program/programVersion")
    dims = {name: (len(d), d.isunlimited()) for name, d in f.dimensions.items()}
    check(dims == {"frame": (len(frames), True), "atom": (n, False), "cell_spatial": (3, False),
                   "cell_angular": (3, False), "label": (10, False), "spatial": (3, False)}, f"dimensions {dims}")
    f.set_auto_scale(False)
    check(b"".join(f["spatial"][:]) == b"xyz" and b"".join(f["cell_spatial"][:]) == b"abc", "spatial labels")
    angular = [b"".join(row).decode() for row in f["cell_angular"][:].filled(b"")]
    check(angular == ["alpha", "beta", "gamma"], f"cell_angular {angular}")
    shapes = {"time": ("frame",), "cell_origin": ("frame", "cell_spatial"), "cell_lengths": ("frame", "cell_spatial"),
              "cell_angles": ("frame", "cell_angular"), "coordinates": ("frame", "atom", "spatial"),
              "velocities": ("frame", "atom", "spatial"), "forces": ("frame", "atom", "spatial"),
              "id": ("frame", "atom"), "type": ("frame", "atom"), "ix": ("frame", "atom")}
    for name, dimensions in shapes.items():
        check(f[name].dimensions == dimensions, f"{name} dimensions {f[name].dimensions}")
    units = {"time": "picosecond", "cell_origin": "angstrom", "cell_lengths": "angstrom", "cell_angles": "degree",
             "coordinates": "angstrom", "velocities": "angstrom/picosecond", "forces": "eV/angstrom"}
    for name, unit in units.items():
        check(getattr(f[name], "units", None) == unit, f"{name} units {getattr(f[name], 'units', None)}")
    check(f["time"].scale_factor == np.float32(dt), f"time scale_factor {f['time'].scale_factor}")
    check(f["coordinates"].dtype == np.float32 and f["id"].dtype == np.int32, "float32 reals, int32 integers")
    for k, (step, cell, origin, rows) in enumerate(frames):
        check(f["time"][k] == step, f"time {f['time'][k]} at step {step}")
        close(f["coordinates"][k], rows[:, POS].astype(np.float32), f"netCDF4 coordinates at step {step}", 0)
        close(f["forces"][k], rows[:, FRC].astype(np.float32), f"netCDF4 forces at step {step}", 0)
        close(f["id"][k], rows[:, ID], f"netCDF4 id at step {step}", 0)
        close(f["ix"][k], rows[:, IMG][:, 0], f"netCDF4 ix at step {step}", 0)

# netcdf/mpiio equals netcdf, variable by variable (values, types, dimensions, attributes).
with netCDF4.Dataset("traj.nc") as serial, netCDF4.Dataset("traj_mpiio.nc") as parallel:
    for f in (serial, parallel):
        f.set_auto_mask(False)
    check(serial.file_format == parallel.file_format, "mpiio file format")
    check({k: v for k, v in serial.__dict__.items()} == {k: v for k, v in parallel.__dict__.items()}, "mpiio global attributes")
    check(list(serial.variables) == list(parallel.variables), f"mpiio variables {list(parallel.variables)}")
    for name, variable in serial.variables.items():
        other = parallel.variables.get(name)
        if other is None:
            continue
        check(variable.dimensions == other.dimensions and variable.dtype == other.dtype, f"mpiio {name} layout")
        check(variable.__dict__ == other.__dict__, f"mpiio {name} attributes")
        check(np.array_equal(variable[:], other[:]), f"mpiio {name} values differ from netcdf")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("OK")
