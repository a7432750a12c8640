import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// Dumps against LAMMPS's own files for the same deck, and the extended XYZ dump read back.
final class DumpTests: XCTestCase {
  let lammps = "/usr/bin/lmp"

  func makeLiquid(in dir: URL, region: String) throws {
    let deck = fccCrystalDeck(region: region, velocity: "1.6 87287 loop geom") + "\n" + """
      write_data liquid.data nocoeff
      """
    try deck.write(to: dir.appendingPathComponent("in.make"), atomically: true, encoding: .utf8)
    let result = try runProcess(lammps, ["-in", "in.make", "-log", "none"], in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
  }

  let deck = """
    units lj
    atom_style atomic
    read_data liquid.data
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    neighbor 0.3 bin
    neigh_modify every 1 delay 0 check yes
    compute pe all pe/atom
    fix 1 all nve
    dump 1 all custom 50 dump.custom id type element x y z xu yu zu ix iy iz vx vy vz fx fy fz c_pe
    dump_modify 1 sort id element Ar format float %.12g
    dump 2 all atom 100 dump.atom
    dump_modify 2 sort id
    dump 3 all xyz 100 dump.xyz
    dump_modify 3 sort id element Ar
    dump 4 all custom 50 dump.bin id type x y z ix iy iz vx vy vz fx fy fz
    dump_modify 4 sort id
    dump 5 all atom 100 dump.atom.bin
    dump_modify 5 sort id
    thermo 50
    run 100
    """

  /// A dump's lines as text (headers) or numbers (atom rows), to compare to a tolerance.
  func frames(_ path: URL) throws -> [String] {
    try String(contentsOf: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  }

  /// `tolerance` is relative: the printed precision (%g prints 6 digits, so round-off can flip the last).
  func assertSameDump(_ expected: URL, _ actual: URL, box: [Double], ranks: Int, tolerance: Double,
                      file: StaticString = #filePath, line: UInt = #line) throws {
    let a = try frames(expected), b = try frames(actual)
    XCTAssertEqual(a.count, b.count, "\(actual.lastPathComponent): line count", file: file, line: line)
    for (k, (x, y)) in zip(a, b).enumerated() where x != y {
      let u = x.split(separator: " "), v = y.split(separator: " ")
      guard u.count == v.count, u.count > 1, let first = Double(u[0]) ?? (u[0] == "Ar" ? 0 : nil), first.isFinite else {
        XCTFail("\(actual.lastPathComponent):\(k + 1) on \(ranks) ranks: '\(y)', LAMMPS '\(x)'", file: file, line: line)
        return
      }
      for (p, q) in zip(u, v) where p != q {
        guard let s = Double(p), let t = Double(q) else {
          XCTFail("\(actual.lastPathComponent):\(k + 1): '\(y)' vs '\(x)'", file: file, line: line)
          return
        }
        // Wrapped coordinates may differ by a box length (atoms are wrapped on rebuild steps only);
        // forces that vanish by symmetry agree only to round-off.
        let wrapped = box.contains { abs(abs(s - t) - $0) < 1e-6 }
        XCTAssertTrue(abs(s - t) <= tolerance * abs(s) + 1e-9 || wrapped,
                      "\(actual.lastPathComponent):\(k + 1) on \(ranks) ranks: '\(y)', LAMMPS '\(x)'", file: file, line: line)
      }
    }
  }

  /// A LAMMPS binary dump (revision 2) cut into its frames' headers (every byte before the values) and values.
  func binaryFrames(_ path: URL) throws -> [(header: [UInt8], values: [Double])] {
    let bytes = [UInt8](try Data(contentsOf: path))
    var offset = 0
    func read<T: FixedWidthInteger>(_: T.Type) -> T {
      var value = T.zero
      withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: bytes[offset..<(offset + MemoryLayout<T>.size)]) }
      offset += MemoryLayout<T>.size
      return T(littleEndian: value)
    }
    var frames: [(header: [UInt8], values: [Double])] = []
    while offset < bytes.count {
      let start = offset
      let magicLength = Int(-read(Int64.self))
      offset += magicLength + 8 + 16  // magic string, endian flag and revision, step and atom count
      let triclinic = read(Int32.self)
      offset += 24 + 8 * (triclinic == 1 ? 9 : 6) + 4  // boundary codes, bounds (and tilts), columns per atom
      offset += Int(read(Int32.self))  // unit style
      offset += bytes[offset] == 1 ? 9 : 1  // time flag (and time)
      offset += Int(read(Int32.self))  // column names
      let chunks = read(Int32.self)
      let header = Array(bytes[start..<offset])
      var values: [Double] = []
      for _ in 0..<chunks {
        for _ in 0..<read(Int32.self) { values.append(Double(bitPattern: read(UInt64.self))) }
      }
      frames.append((header, values))
    }
    return frames
  }

  /// Headers byte for byte; values to 1e-8 relative, or a box length apart (wrapped coordinates).
  func assertSameBinaryDump(_ expected: URL, _ actual: URL, box: [Double], ranks: Int,
                            file: StaticString = #filePath, line: UInt = #line) throws {
    let a = try binaryFrames(expected), b = try binaryFrames(actual)
    XCTAssertEqual(a.count, b.count, "\(actual.lastPathComponent): frame count", file: file, line: line)
    for (k, (x, y)) in zip(a, b).enumerated() {
      XCTAssertEqual(x.header, y.header, "\(actual.lastPathComponent) frame \(k) header on \(ranks) ranks", file: file, line: line)
      XCTAssertEqual(x.values.count, y.values.count, "\(actual.lastPathComponent) frame \(k) values", file: file, line: line)
      for (s, t) in zip(x.values, y.values) where s != t {
        let wrapped = box.contains { abs(abs(s - t) - $0) < 1e-6 }
        guard abs(s - t) <= 1e-8 * abs(s) + 1e-9 || wrapped else {
          return XCTFail("\(actual.lastPathComponent) frame \(k) on \(ranks) ranks: \(t), LAMMPS \(s)", file: file, line: line)
        }
      }
    }
  }

  func compare(region: String, box: [Double]) throws {
    guard FileManager.default.isExecutableFile(atPath: lammps) else {
      return XCTFail("LAMMPS (Debian package lammps) is not installed; `make test` installs it")
    }
    let reference = try makeScratchDirectory("dump-lammps")
    try makeLiquid(in: reference, region: region)
    try deck.write(to: reference.appendingPathComponent("in.dump"), atomically: true, encoding: .utf8)
    let run = try runProcess(lammps, ["-in", "in.dump", "-log", "none"], in: reference)
    XCTAssertEqual(run.status, 0, run.combined)
    for ranks in [1, 4] {
      let dir = try makeScratchDirectory("dump-tessera")
      try FileManager.default.copyItem(at: reference.appendingPathComponent("liquid.data"), to: dir.appendingPathComponent("liquid.data"))
      let result = try runDeck(deck, named: "in.dump", ranks: ranks, in: dir)
      XCTAssertEqual(result.status, 0, result.combined)
      for name in ["dump.custom", "dump.atom", "dump.xyz"] {
        try assertSameDump(reference.appendingPathComponent(name), dir.appendingPathComponent(name), box: box, ranks: ranks,
                           tolerance: name == "dump.custom" ? 1e-8 : 1e-5)
      }
      for name in ["dump.bin", "dump.atom.bin"] {
        try assertSameBinaryDump(reference.appendingPathComponent(name), dir.appendingPathComponent(name), box: box,
                                 ranks: ranks)
      }
    }
  }

  func testOrthogonalDumpsMatchLammps() throws {
    try compare(region: "region box block 0 4 0 4 0 4", box: [6.718384765530029])
  }

  func testTriclinicDumpsMatchLammps() throws {
    try compare(region: "region box prism 0 4 0 4 0 4 1 0.5 0.5", box: [6.718384765530029, 1.6795961913825074, 0.8397980956912537])
  }

  /// `dump extxyz` read back: one frame per dump step, species from `dump_modify element`, the cell,
  /// and positions/velocities/forces equal to the custom dump's full-precision values.
  func testExtendedXYZDumpReadsBack() throws {
    let dir = try makeScratchDirectory("dump-extxyz")
    let text = fccCrystalDeck(region: "region box prism 0 3 0 3 0 3 0.5 0.25 0.25", velocity: "1.2 4928459") + "\n" + """
      pair_style lj/cut 2.5
      pair_coeff 1 1 1.0 1.0 2.5
      compute e all pe/atom
      fix 1 all nve
      dump x all extxyz 20 frames.xyz
      dump_modify x element Ar
      dump c all custom 20 frame.*.txt id x y z vx vy vz fx fy fz c_e
      dump_modify c format float %.17g
      thermo 20
      thermo_style custom step pe
      thermo_modify format float %.17g norm no
      run 40
      """
    let result = try runDeck(text, named: "in.x", ranks: 2, in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    let frames = try ExtendedXYZ.read(contentsOf: dir.appendingPathComponent("frames.xyz").path)
    XCTAssertEqual(frames.count, 3)
    let energies = thermoRows(result.output).map { $0["PotEng"]! }
    for (k, frame) in frames.enumerated() {
      XCTAssertEqual(frame.atomCount, 108)
      XCTAssertEqual(Set(frame.species), ["Ar"])
      XCTAssertEqual(frame.pbc, [true, true, true])
      XCTAssertEqual(frame.lattice?[3] ?? .nan, 0.5 * 1.6795961913825074, accuracy: 1e-12)
      XCTAssertEqual(frame.info["step"], .integer(20 * k))
      guard case .double(let energy)? = frame.info["energy"] else { return XCTFail("energy missing") }
      XCTAssertEqual(energy, energies[k], accuracy: 1e-10 * abs(energies[k]))
      // The custom dump of the same step, one file per frame, sorted by id like the extended XYZ.
      let rows = try String(contentsOf: dir.appendingPathComponent("frame.\(20 * k).txt"), encoding: .utf8)
        .split(separator: "\n").dropFirst(9).map { $0.split(separator: " ").map { Double($0)! } }
      guard case .reals(let velocities)? = frame.property(named: "velocities")?.values,
            case .reals(let forces)? = frame.property(named: "forces")?.values else { return XCTFail("arrays missing") }
      for (i, row) in rows.enumerated() {
        for c in 0..<3 {
          XCTAssertEqual(frame.positions[3 * i + c], row[1 + c], accuracy: 1e-12)
          XCTAssertEqual(velocities[3 * i + c], row[4 + c])
          XCTAssertEqual(forces[3 * i + c], row[7 + c])
        }
      }
    }
  }

  func testDumpErrors() throws {
    let dir = try makeScratchDirectory("dump-errors")
    let base = """
      units lj
      lattice fcc 0.8442
      region box block 0 2 0 2 0 2
      create_box 1 box
      create_atoms 1 box
      mass 1 1.0
      pair_style lj/cut 2.5
      pair_coeff 1 1 1.0 1.0 2.5
      fix 1 all nve

      """
    let cases = [
      ("dump 1 all custom 10 d.txt id q", "in.e:10: dump: unknown dump custom field 'q'"),
      ("dump 1 all custom 10 d.txt id c_pe", "'c_pe': no compute 'pe' of style pe/atom"),
      ("dump 1 all custom 10 d.txt id x\ndump_modify 1 format float %d", "in.e:11: dump_modify: dump_modify format float: expected one floating-point conversion"),
      ("dump 1 all custom 10 /nonexistent/dir/d.txt id x\nrun 10", "dump 1: cannot create '/nonexistent/dir/d.txt'"),
      ("dump 1 all cfg 10 d.cfg", "unsupported dump style 'cfg'"),
      ("dump 1 all custom 10 d.txt id x\ndump_modify 1 nfile 2", "dump_modify nfile needs '%' in the dump file name"),
      ("dump 1 all h5md 10 d.h5 image position", "dump h5md: 'image' must follow 'position'"),
      ("dump 1 all h5md 10 d.h5 position file_from 2", "dump h5md: 'file_from' (several dumps or groups in one file) is not supported"),
      ("dump 1 all h5md 10 d.%.h5 position", "'*' and '%' are not allowed in its name"),
      ("dump 1 all h5md 10 d.h5 position\ndump_modify 1 sort id", "dump_modify sort: not available for h5md dumps"),
      ("dump 1 all h5md 10 /nonexistent/dir/d.h5 position\nrun 10", "/nonexistent/dir/d.h5: cannot create the H5MD file"),
      ("dump 1 all netcdf 10 d.nc id x y", "'x' is part of 'coordinates': give x y z together"),
      ("dump 1 all netcdf 10 d.nc id element", "'element': a NetCDF dump stores no strings"),
      ("dump 1 all netcdf/mpiio 10 d.*.nc id x y z", "'*' and '%' are not allowed in its name"),
      ("dump 1 all netcdf 10 d.nc id x y z\ndump_modify 1 sort id", "dump_modify sort: not available for netcdf dumps"),
      ("dump 1 all netcdf 10 d.nc id x y z\ndump_modify 1 at 0", "dump_modify at: frame 0 is not allowed"),
      ("dump 1 all netcdf 10 d.nc id x y z\ndump_modify 1 at 2\nrun 10", "dump 1: dump_modify at needs 'append yes'"),
      ("dump 1 all netcdf/mpiio 10 /nonexistent/dir/d.nc id x y z\nrun 10", "/nonexistent/dir/d.nc: cannot create the file"),
      ("dump 1 all netcdf 10 /nonexistent/dir/d.nc id x y z\nrun 10", "/nonexistent/dir/d.nc: cannot create the file"),
      ("dump 1 all netcdf/mpiio 10 missing.nc id x y z\ndump_modify 1 append yes\nrun 10", "missing.nc: cannot open the file to append to it"),
      ("dump 1 all custom 10 d.txt id x\ndump_modify 1 double yes", "dump_modify double: only for netcdf dumps"),
      ("dump 1 all custom 10 d.bin id element x", "'element' cannot be written to a binary dump"),
    ]
    for (lines, message) in cases {
      let result = try runDeck(base + lines + "\n", named: "in.e", ranks: 2, in: dir)
      assertRunRefused(result, saying: message, lines)
    }
  }

  /// `%` in the file name (LAMMPS): one file per rank, `dump_modify nfile N` files, `fileper P` ranks per
  /// file; each frame's files hold every atom once, with the same rows as the single-file dump.
  func testFilePerRankGroup() throws {
    let dir = try makeScratchDirectory("dump-percent")
    let text = fccCrystalDeck(cells: 4, velocity: "1.6 87287 loop geom") + "\n" + """
      pair_style lj/cut 2.5
      pair_coeff 1 1 1.0 1.0 2.5
      fix 1 all nve
      dump all all custom 10 all.txt id type x y z vx vy vz
      dump a all custom 10 rank.%.txt id type x y z vx vy vz
      dump b all custom 10 nfile.%.txt id type x y z vx vy vz
      dump_modify b nfile 3
      dump c all custom 10 fileper.%.*.txt id type x y z vx vy vz
      dump_modify c fileper 3
      run 20
      """
    let result = try runDeck(text, named: "in.p", ranks: 4, in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    /// Frames of a dump file: the step and the atom rows (unsorted), after checking the header's count.
    func frames(_ name: String) throws -> [(step: Int, rows: [String])] {
      let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
      return text.components(separatedBy: "ITEM: TIMESTEP\n").dropFirst().map { block in
        let lines = block.split(separator: "\n").map(String.init)
        let rows = Array(lines.dropFirst(8))
        XCTAssertEqual(Int(lines[2]), rows.count, "\(name): NUMBER OF ATOMS")
        return (Int(lines[0])!, rows)
      }
    }
    let reference = try frames("all.txt")
    XCTAssertEqual(reference.map(\.step), [0, 10, 20])
    // nfile 3 on 4 ranks: ranks 0, 1 | 2 | 3 (LAMMPS: rank * nfile / nprocs); fileper 3: ranks 0–2 | 3.
    let layouts: [(String, [String])] = [
      ("rank", (0..<4).map { "rank.\($0).txt" }),
      ("nfile", (0..<3).map { "nfile.\($0).txt" }),
    ]
    for (name, files) in layouts {
      let parts = try files.map(frames)
      XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(name).\(files.count).txt").path))
      for (k, frame) in reference.enumerated() {
        XCTAssertTrue(parts.allSatisfy { $0[k].step == frame.step && !$0[k].rows.isEmpty }, name)
        XCTAssertEqual(parts.flatMap { $0[k].rows }.sorted(), frame.rows.sorted(), "\(name) at step \(frame.step)")
      }
    }
    for (k, frame) in reference.enumerated() {
      let parts = try ["fileper.0.\(frame.step).txt", "fileper.1.\(frame.step).txt"].map(frames)
      XCTAssertEqual(parts.flatMap { $0[0].rows }.sorted(), frame.rows.sorted(), "fileper at step \(frame.step)")
      XCTAssertGreaterThan(parts[0][0].rows.count, 2 * parts[1][0].rows.count, "fileper 3: ranks 0–2 in file 0 (frame \(k))")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("fileper.2.0.txt").path))
  }
}

