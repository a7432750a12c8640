import Foundation
import TesseraTestSupport
import XCTest

/// Dumps read by the real readers installed from PyPI (`make pyenv`): ASE (LAMMPS text dump, extended
/// XYZ), MDAnalysis (H5MD, LAMMPS dump) and h5py (the H5MD 1.1 layout) in `Tests/Python/check_dumps.py`;
/// OVITO (custom and atom dumps, text and binary, xyz, extended XYZ, data file, NetCDF), MDAnalysis, ASE and
/// netCDF4 (NetCDF: the AMBER layout, netcdf/mpiio equal to netcdf) in `check_ovito_netcdf.py`; each
/// compared with the engine's own full-precision values, on 1 and 4 ranks, orthogonal and triclinic.
final class ReaderTests: XCTestCase {
  /// The venv's interpreter: `TESSERA_PYTHON`, else `.build/pyenv` (made by `make pyenv`).
  var python: String {
    ProcessInfo.processInfo.environment["TESSERA_PYTHON"]
      ?? repositoryRoot.appendingPathComponent(".build/pyenv/bin/python").path
  }

  /// `system`: the commands that define the box and atoms.
  func deck(system: String, compression: Int) -> String {
    """
    units metal
    atom_style atomic
    \(system)
    mass 1 39.948
    velocity all create 3000 4928459 loop geom
    pair_style lj/cut 8.5
    pair_coeff 1 1 0.0104 3.4
    timestep 0.002
    neighbor 0.5 bin
    neigh_modify every 1 delay 0 check yes
    fix 1 all nve
    dump c all custom 10 dump.custom id type x y z ix iy iz vx vy vz fx fy fz
    dump_modify c format float %.17g
    dump x all extxyz 10 dump.xyz
    dump_modify x element Ar
    dump h all h5md 10 traj.h5md position image velocity force species author "Tessera tests"
    dump_modify h compression_level \(compression)
    dump a all atom 10 dump.atom
    dump_modify a format float %.17g
    dump ab all atom 10 dump.atom.bin
    dump b all custom 10 dump.bin id type x y z ix iy iz vx vy vz fx fy fz
    dump p all xyz 10 dump.plain.xyz
    dump_modify p format float %.17g
    dump n all netcdf 10 traj.nc id type x y z vx vy vz fx fy fz ix iy iz
    dump m all netcdf/mpiio 10 traj_mpiio.nc id type x y z vx vy vz fx fy fz ix iy iz
    dump d all netcdf/mpiio 10 traj_double.nc id type x y z vx vy vz fx fy fz
    dump_modify d double yes
    dump v all netcdf 10 traj_mda.nc id type x y z vx vy vz
    dump_modify v double yes
    thermo 10
    run 40
    write_data final.data
    """
  }

  func lattice(_ region: String) -> String {
    "lattice fcc 5.26\n\(region)\ncreate_box 1 box\ncreate_atoms 1 box"
  }

  /// Runs the deck on 1 and 4 ranks in fresh directories (after `prepare` fills each) and checks its dumps.
  func check(system: String, prepare: (URL) throws -> Void = { _ in }) throws {
    guard FileManager.default.isExecutableFile(atPath: python) else {
      return XCTFail("\(python) is missing: `make pyenv` installs ASE, MDAnalysis and h5py for these tests")
    }
    let script = repositoryRoot.appendingPathComponent("Tests/Python/check_dumps.py").path
    let ovitoScript = repositoryRoot.appendingPathComponent("Tests/Python/check_ovito_netcdf.py").path
    for ranks in [1, 4] {
      let dir = try makeScratchDirectory("dump-readers")
      try prepare(dir)
      // Compressed on 4 ranks: parallel HDF5 writes filtered chunks collectively.
      let run = try runDeck(deck(system: system, compression: ranks == 4 ? 4 : 0),
                            named: "in.readers", ranks: ranks, in: dir)
      XCTAssertEqual(run.status, 0, run.combined)
      for script in [script, ovitoScript] {
        let result = try runProcess(python, [script, "0.002", "40", "10"], in: dir)
        XCTAssertEqual(result.status, 0, "\(ranks) ranks, \(system), \(script):\n\(result.combined)")
        XCTAssertTrue(result.output.hasSuffix("OK\n"), result.combined)
      }
    }
  }

  func testOrthogonalDumpsReadByASEAndMDAnalysis() throws {
    try check(system: lattice("region box block 0 4 0 4 0 4"))
  }

  func testTriclinicDumpsReadByASEAndMDAnalysis() throws {
    try check(system: lattice("region box prism 0 4 0 4 0 4 1.0 0.5 0.5"))
  }

  /// Ids with gaps (3, 6, 9, …, read from a data file): H5MD rows still follow the sorted ids.
  func testSparseIdsKeepH5MDRowsInIdOrder() throws {
    try check(system: "read_data sparse.data") { dir in
      let make = "units metal\natom_style atomic\n\(lattice("region box prism 0 4 0 4 0 4 1.0 0.5 0.5"))\nmass 1 39.948\nwrite_data dense.data\n"
      let run = try runDeck(make, named: "in.make", ranks: 1, in: dir)
      XCTAssertEqual(run.status, 0, run.combined)
      // Atom rows (8 columns) and velocity rows (4 columns), an integer first, get id × 3; the rest is kept.
      let dense = try String(contentsOf: dir.appendingPathComponent("dense.data"), encoding: .utf8)
      let sparse = dense.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        let words = line.split(separator: " ")
        guard words.count == 8 || words.count == 4, let id = Int(words[0]) else { return String(line) }
        return (["\(3 * id)"] + words.dropFirst().map(String.init)).joined(separator: " ")
      }
      try sparse.joined(separator: "\n").write(to: dir.appendingPathComponent("sparse.data"), atomically: true, encoding: .utf8)
    }
  }

  /// `dump_modify append yes` continues a NetCDF file written by an earlier dump (netcdf/mpiio after
  /// netcdf/mpiio, then serial netcdf), and `at N` overwrites from frame N on: the steps in `time` show it.
  func testNetCDFAppendAndAt() throws {
    guard FileManager.default.isExecutableFile(atPath: python) else {
      return XCTFail("\(python) is missing: `make pyenv` installs netCDF4 for this test")
    }
    let dir = try makeScratchDirectory("netcdf-append")
    let deck = fccCrystalDeck(cells: 3, velocity: "1.6 87287 loop geom") + "\n" + """
      pair_style lj/cut 2.5
      pair_coeff 1 1 1.0 1.0 2.5
      fix 1 all nve
      dump n all netcdf/mpiio 10 t.nc id type x y z
      run 20
      undump n
      dump n all netcdf/mpiio 10 t.nc id type x y z
      dump_modify n append yes
      run 20
      undump n
      dump n all netcdf 10 t.nc id type x y z
      dump_modify n append yes at 2
      run 10
      """
    let run = try runDeck(deck, named: "in.append", ranks: 2, in: dir)
    XCTAssertEqual(run.status, 0, run.combined)
    let script = """
      import netCDF4
      with netCDF4.Dataset("t.nc") as f:
          f.set_auto_scale(False)
          print([int(t) for t in f["time"][:]], f["coordinates"].shape, sorted(set(f["id"][:].ravel().tolist())) == list(range(1, 109)))
      """
    let result = try runProcess(python, ["-c", script], in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    XCTAssertEqual(result.output, "[0, 40, 50, 20, 30, 40] (6, 108, 3) True\n")
  }

  /// `dump_modify thermo yes`: each thermo column a per-frame variable named by its header, holding the
  /// thermo table's values at the dump's steps (written collectively on 2 ranks, in doubles).
  func testNetCDFThermoYes() throws {
    guard FileManager.default.isExecutableFile(atPath: python) else {
      return XCTFail("\(python) is missing: `make pyenv` installs netCDF4 for this test")
    }
    let dir = try makeScratchDirectory("netcdf-thermo")
    let deck = fccCrystalDeck(cells: 3, velocity: "1.6 87287 loop geom") + "\n" + """
      pair_style lj/cut 2.5
      pair_coeff 1 1 1.0 1.0 2.5
      fix 1 all nve
      thermo_style custom step temp pe etotal press atoms
      thermo_modify format float %.15g
      thermo 10
      dump n all netcdf/mpiio 10 t.nc id x y z
      dump_modify n thermo yes double yes
      run 30
      """
    let run = try runDeck(deck, named: "in.thermo", ranks: 2, in: dir)
    XCTAssertEqual(run.status, 0, run.combined)
    let rows = thermoRows(run.output)
    XCTAssertEqual(rows.count, 4, run.output)
    let script = """
      import netCDF4
      with netCDF4.Dataset("t.nc") as f:
          for name in ["Step", "Temp", "PotEng", "TotEng", "Press", "Atoms"]:
              print(name, f[name].dtype, " ".join(repr(float(v)) for v in f[name][:]))
      """
    let result = try runProcess(python, ["-c", script], in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    for line in result.output.split(separator: "\n").map(String.init) {
      let words = line.split(separator: " ").map(String.init)
      XCTAssertEqual(words[1], ["Step", "Atoms"].contains(words[0]) ? "int32" : "float64", line)
      let stored = words.dropFirst(2).compactMap(Double.init)
      let printed = rows.compactMap { $0[words[0]] }
      XCTAssertEqual(stored.count, printed.count, "\(line)\n\(run.output)")
      for (s, p) in zip(stored, printed) {
        XCTAssertEqual(s, p, accuracy: 1e-12 * max(1, abs(p)), "\(words[0]): \(line)\n\(run.output)")
      }
    }
  }

  /// LAMMPS's sub-intervals (`every K` after an element, image with position) and `box no`, read by h5py.
  func testH5MDSubIntervalsAndBoxNo() throws {
    guard FileManager.default.isExecutableFile(atPath: python) else {
      return XCTFail("\(python) is missing: `make pyenv` installs ASE, MDAnalysis and h5py for these tests")
    }
    let dir = try makeScratchDirectory("h5md-every")
    let deck = fccCrystalDeck(cells: 3, velocity: "1.6 87287 loop geom") + "\n" + """
      pair_style lj/cut 2.5
      pair_coeff 1 1 1.0 1.0 2.5
      fix 1 all nve
      dump h all h5md 10 t.h5md position image velocity every 2 species every 4 box no
      run 40
      """
    let run = try runDeck(deck, named: "in.every", ranks: 2, in: dir)
    XCTAssertEqual(run.status, 0, run.combined)
    let script = """
      import h5py
      with h5py.File("t.h5md", "r") as f:
          a = f["particles/all"]
          print([a[e]["step"][:].tolist() for e in ("position", "image", "velocity", "species")])
          print(sorted(a), sorted(a["box"]), sorted(a["box"].attrs))
      """
    let result = try runProcess(python, ["-c", script], in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    XCTAssertEqual(result.output, """
      [[0, 10, 20, 30, 40], [0, 10, 20, 30, 40], [0, 20, 40], [0, 40]]
      ['box', 'image', 'position', 'species', 'velocity'] [] ['boundary', 'dimension']

      """)
  }
}

