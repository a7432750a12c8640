import Foundation
import TesseraTestSupport
import XCTest

/// `pair_style eam`, `eam/alloy` and `eam/fs` against LAMMPS (Debian's `lmp`) on the same decks:
/// a 4,000-atom fcc crystal, given by LAMMPS far more kinetic energy than it can hold as a solid,
/// melting under NVE or `fix npt` for 200 steps. Every thermo column (thermo every 50 steps) must
/// agree to 1e-8 relative on 1 and 4 ranks, and so must every per-atom energy (`compute pe/atom`)
/// and unwrapped position in a dump of the first and last steps. The potential files are Debian's
/// (lammps-data), copied to inputs/eam.
///
/// LAMMPS writes the starting state (`create_atoms`, `velocity create`, types drawn by `set`) to a
/// data file that both codes read, so that both start from the same state (Tessera's `create_atoms` numbers
/// atoms otherwise).
final class EAMTests: XCTestCase {
  let lammps = "/usr/bin/lmp"

  struct Case {
    /// `pair_style` and `pair_coeff` lines, potential files named without a directory.
    var pair: String
    var files: [String]
    var lattice: Double
    var region = "region box block 0 10 0 10 0 10"
    var types = 1
    /// LAMMPS-only line giving part of the atoms type 2.
    var typeSetting = ""
    var temperature: Double
    var fix: String
    var timestep = 0.005
    var steps = 200
  }

  /// The deck both codes run from `crystal.data`.
  func deck(_ c: Case) -> String {
    """
    units metal
    atom_style atomic
    atom_modify map array
    read_data crystal.data
    \(c.pair)
    neighbor 1.0 bin
    neigh_modify every 1 delay 0 check yes
    timestep \(c.timestep)
    compute pe all pe/atom
    \(c.fix)
    dump 1 all custom \(c.steps) atoms.dump id type xu yu zu c_pe
    dump_modify 1 sort id format float %.17g
    thermo_style custom step temp pe ke etotal press vol lx ly lz xy xz yz pxx pyy pzz pxy pxz pyz density ecouple econserve
    thermo_modify format float %.16g norm no
    thermo 50
    run \(c.steps)
    """
  }

  /// Runs the case in both codes on 1 and 4 ranks, compares thermo rows and dumps; returns the dump
  /// frames of Tessera's 1-rank run (per frame: id → [type, xu, yu, zu, c_pe]).
  @discardableResult
  func compare(_ c: Case, file: StaticString = #filePath, line: UInt = #line) throws -> [[Int: [Double]]] {
    guard FileManager.default.isExecutableFile(atPath: lammps) else {
      XCTFail("LAMMPS (Debian package lammps) is not installed; `make test` installs it", file: file, line: line)
      return []
    }
    let dir = try makeScratchDirectory("eam")
    for name in c.files {
      try FileManager.default.copyItem(atPath: inputPath("eam/\(name)"), toPath: dir.appendingPathComponent(name).path)
    }
    let maker = """
      units metal
      atom_style atomic
      lattice fcc \(c.lattice)
      \(c.region)
      create_box \(c.types) box
      create_atoms 1 box
      \(c.typeSetting)
      \(c.pair)
      velocity all create \(c.temperature) 4928459 loop geom
      write_data crystal.data nocoeff
      """
    try maker.write(to: dir.appendingPathComponent("in.make"), atomically: true, encoding: .utf8)
    let made = try runProcess(lammps, ["-in", "in.make", "-log", "none"], in: dir)
    XCTAssertEqual(made.status, 0, made.combined, file: file, line: line)
    try deck(c).write(to: dir.appendingPathComponent("in.eam"), atomically: true, encoding: .utf8)
    var tesseraFrames: [[Int: [Double]]] = []
    for ranks in [1, 4] {
      let reference = try runProcess("/usr/bin/mpirun", ["--oversubscribe", "-np", "\(ranks)", lammps, "-in", "in.eam", "-log", "none"], in: dir)
      XCTAssertEqual(reference.status, 0, reference.combined, file: file, line: line)
      let referenceDump = try dumpFrames(dir.appendingPathComponent("atoms.dump"))
      let tessera = try runTessera(ranks: ranks, ["run", "in.eam", "--log", "none"], in: dir)
      XCTAssertEqual(tessera.status, 0, tessera.combined, file: file, line: line)
      let dump = try dumpFrames(dir.appendingPathComponent("atoms.dump"))
      if ranks == 1 { tesseraFrames = dump }
      assertThermoAgrees(thermoRows(reference.output), thermoRows(tessera.output), rows: c.steps / 50 + 1,
                         "\(ranks) ranks", file: file, line: line)
      assertDumpsAgree(referenceDump, dump, atoms: 4000, frames: 2, "\(ranks) ranks", file: file, line: line)
    }
    return tesseraFrames
  }

  /// Every column of every row to 1e-8 relative; pressure components on the scale of the pressure,
  /// tilts on that of the box, `ecouple` on that of the total energy (they start at zero).
  func assertThermoAgrees(_ expected: [[String: Double]], _ actual: [[String: Double]], rows: Int, _ context: String,
                          file: StaticString, line: UInt) {
    XCTAssertEqual(expected.count, rows, "\(context): LAMMPS's thermo rows", file: file, line: line)
    XCTAssertEqual(actual.count, expected.count, "\(context): Tessera's thermo rows", file: file, line: line)
    for (a, b) in zip(expected, actual) {
      XCTAssertEqual(a.count, 22, "\(context): LAMMPS's columns", file: file, line: line)
      XCTAssertEqual(Set(a.keys), Set(b.keys), "\(context): the columns", file: file, line: line)
      for (key, value) in a {
        let mine = b[key] ?? .nan
        if value == mine { continue }
        let scale = max(abs(value), key.hasPrefix("P") ? abs(a["Press"]!) : ["Xy", "Xz", "Yz"].contains(key) ? a["Lx"]!
                          : key == "Ecouple" ? abs(a["TotEng"]!) : 0)
        XCTAssertLessThan(abs(value - mine) / scale, 1e-8,
                          "\(context), step \(a["Step"]!), \(key): LAMMPS \(value), Tessera \(mine)", file: file, line: line)
      }
    }
  }

  /// Frames of a `dump custom … id type xu yu zu c_pe`: per frame, id → the other five columns.
  func dumpFrames(_ url: URL) throws -> [[Int: [Double]]] {
    var frames: [[Int: [Double]]] = []
    var inAtoms = false
    for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") {
      if line.hasPrefix("ITEM:") {
        inAtoms = line.hasPrefix("ITEM: ATOMS")
        if line.hasPrefix("ITEM: TIMESTEP") { frames.append([:]) }
        continue
      }
      guard inAtoms else { continue }
      let values = line.split(separator: " ").map { Double($0) ?? .nan }
      if values.count == 6, let id = Int(exactly: values[0]) { frames[frames.count - 1][id] = Array(values.dropFirst()) }
    }
    return frames
  }

  /// Same atoms in each frame; types equal, positions and per-atom energies to 1e-8 relative (of 1
  /// Å or 1 eV at least).
  func assertDumpsAgree(_ expected: [[Int: [Double]]], _ actual: [[Int: [Double]]], atoms: Int, frames: Int,
                        _ context: String, file: StaticString, line: UInt) {
    XCTAssertEqual(expected.count, frames, "\(context): LAMMPS's dump frames", file: file, line: line)
    XCTAssertEqual(actual.count, expected.count, "\(context): Tessera's dump frames", file: file, line: line)
    for (k, (a, b)) in zip(expected, actual).enumerated() {
      XCTAssertEqual(a.count, atoms, "\(context), frame \(k): LAMMPS's atoms", file: file, line: line)
      XCTAssertEqual(Set(a.keys), Set(b.keys), "\(context), frame \(k): the atom ids", file: file, line: line)
      var worst = (difference: 0.0, id: 0, column: 0)
      for (id, row) in a {
        guard let mine = b[id], mine.count == row.count else { continue }
        XCTAssertEqual(row[0], mine[0], "\(context), frame \(k), atom \(id): type", file: file, line: line)
        for c in 1..<row.count {
          let difference = abs(row[c] - mine[c]) / max(abs(row[c]), 1)
          if !(difference <= worst.difference) { worst = (difference, id, c) }
        }
      }
      XCTAssertLessThan(worst.difference, 1e-8, "\(context), frame \(k): atom \(worst.id), column "
        + "\(["type", "xu", "yu", "zu", "c_pe"][worst.column]): LAMMPS \(a[worst.id]![worst.column]), "
        + "Tessera \(b[worst.id]![worst.column])", file: file, line: line)
    }
  }

  /// Mean-square displacement (Å²) between the two frames of a dump: well above a crystal's
  /// thermal vibration (≈ 0.1 Å² here) once the crystal has melted and atoms diffuse.
  func meanSquareDisplacement(_ frames: [[Int: [Double]]]) -> Double {
    guard frames.count == 2, !frames[0].isEmpty else { return 0 }
    var sum = 0.0
    for (id, start) in frames[0] {
      guard let end = frames[1][id] else { return 0 }
      sum += (1...3).reduce(0.0) { $0 + (end[$1] - start[$1]) * (end[$1] - start[$1]) }
    }
    return sum / Double(frames[0].count)
  }

  /// `pair_style eam` with Cu_u3 (LAMMPS's bench/in.eam potential): a crystal expanded to 3.75 Å
  /// at 5,000 K shares its energy out to ≈ 2,200 K and melts (mean-square displacement ≈ 3.7 Å² after
  /// 1 ps, still growing linearly).
  func testCopperMeltsAsInLammps() throws {
    let frames = try compare(Case(pair: "pair_style eam\npair_coeff 1 1 Cu_u3.eam", files: ["Cu_u3.eam"], lattice: 3.75,
                                  temperature: 5000, fix: "fix 1 all nve"))
    XCTAssertGreaterThan(meanSquareDisplacement(frames), 2.0, "the crystal should have melted")
  }

  /// Two funcfl files (Cu_u3 and Ni_u3, 30 % Ni) mixed by LAMMPS's rule φ = 27.2·0.529·Z_Cu·Z_Ni / r,
  /// the box free to expand under `fix npt` at zero pressure and 2,500 K.
  func testCopperNickelFuncflMixtureUnderBarostat() throws {
    try compare(Case(pair: "pair_style eam\npair_coeff 1 1 Cu_u3.eam\npair_coeff 2 2 Ni_u3.eam", files: ["Cu_u3.eam", "Ni_u3.eam"],
                     lattice: 3.70, types: 2, typeSetting: "set type 1 type/fraction 2 0.3 8273",
                     temperature: 5000, fix: "fix 1 all npt temp 2500 2500 0.1 iso 0 0 0.5"))
  }

  /// `pair_style eam/alloy` with AlCu (Cai and Ye; 10 % Cu) in a triclinic box: NVE from 3,500 K.
  func testAluminiumCopperAlloyTriclinic() throws {
    let frames = try compare(Case(pair: "pair_style eam/alloy\npair_coeff * * AlCu.eam.alloy Al Cu", files: ["AlCu.eam.alloy"],
                                  lattice: 4.2, region: "region box prism 0 10 0 10 0 10 1 0.5 0.5", types: 2,
                                  typeSetting: "set type 1 type/fraction 2 0.1 8273", temperature: 3500,
                                  fix: "fix 1 all nve", timestep: 0.003))
    XCTAssertGreaterThan(meanSquareDisplacement(frames), 2.0, "the crystal should have melted")
  }

  /// The alloy under `fix npt … tri`: all six box degrees of freedom move.
  func testAluminiumCopperAlloyTriclinicBarostat() throws {
    try compare(Case(pair: "pair_style eam/alloy\npair_coeff * * AlCu.eam.alloy Al Cu", files: ["AlCu.eam.alloy"],
                     lattice: 4.05, region: "region box prism 0 10 0 10 0 10 1 0.5 0.5", types: 2,
                     typeSetting: "set type 1 type/fraction 2 0.1 8273", temperature: 3500,
                     fix: "fix 1 all npt temp 1800 1800 0.1 tri 0 0 0.5", timestep: 0.003))
  }

  /// `pair_style eam/fs` with the Ni–Al–H file of Angelo, Moody and Baskes, two of its three elements
  /// (types Ni and Al, 25 % Al): Finnis–Sinclair densities differ by the pair of elements.
  func testNickelAluminiumFinnisSinclair() throws {
    let frames = try compare(Case(pair: "pair_style eam/fs\npair_coeff * * NiAlH_jea.eam.fs Ni Al", files: ["NiAlH_jea.eam.fs"],
                                  lattice: 3.76, types: 2, typeSetting: "set type 1 type/fraction 2 0.25 8273",
                                  temperature: 5000, fix: "fix 1 all nve"))
    XCTAssertGreaterThan(meanSquareDisplacement(frames), 2.0, "the crystal should have melted")
  }

  func testNickelAluminiumFinnisSinclairBarostat() throws {
    try compare(Case(pair: "pair_style eam/fs\npair_coeff * * NiAlH_jea.eam.fs Ni Al", files: ["NiAlH_jea.eam.fs"],
                     lattice: 3.52, types: 2, typeSetting: "set type 1 type/fraction 2 0.25 8273",
                     temperature: 5000, fix: "fix 1 all npt temp 2500 2500 0.1 aniso 0 0 0.5"))
  }

  /// A small crystal deck of `types` types around `pair`, with no `mass` command: the potential file
  /// must set the masses.
  func smallDeck(_ pair: String, types: Int = 2) -> String {
    """
    units metal
    atom_style atomic
    lattice fcc 4.05
    region box block 0 3 0 3 0 3
    create_box \(types) box
    create_atoms 1 box
    \(pair)
    run 0
    """
  }

  /// The masses are the file's (LAMMPS `atom->set_mass` in `pair_coeff`), as `tessera check` reports.
  func testMassesComeFromTheFile() throws {
    let dir = try makeScratchDirectory("eam-masses")
    for name in ["AlCu.eam.alloy", "Cu_u3.eam", "Ni_u3.eam"] {
      try FileManager.default.copyItem(atPath: inputPath("eam/\(name)"), toPath: dir.appendingPathComponent(name).path)
    }
    for (pair, masses) in [("pair_style eam/alloy\npair_coeff * * AlCu.eam.alloy Cu Al", "masses 63.546 26.982"),
                           ("pair_style eam\npair_coeff * * Cu_u3.eam\npair_coeff 2 2 Ni_u3.eam", "masses 63.55 58.71")] {
      try smallDeck(pair).write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
      let result = try runTessera(ranks: 1, ["check", "in.deck"], in: dir)
      XCTAssertEqual(result.status, 0, result.combined)
      XCTAssertTrue(result.output.contains("atoms: 108 of 2 types, \(masses)"), result.combined)
    }
  }

  /// Malformed files and mappings are refused with the deck line, the file and its line, and what
  /// was expected.
  func testBadFilesAndMappingsAreLocated() throws {
    let dir = try makeScratchDirectory("eam-errors")
    let text = try String(contentsOfFile: inputPath("eam/AlCu.eam.alloy"), encoding: .utf8)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    XCTAssertEqual(lines[4].split(separator: " ").count, 5, "line 5 of AlCu.eam.alloy is its grid line")
    func write(_ name: String, _ content: [String]) throws {
      try content.joined(separator: "\n").write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    var badGrid = lines
    badGrid[4] = "1000 x 3000 2.2282427476e-03 6.6825"
    try write("grid.eam.alloy", badGrid)
    var badNumber = lines
    badNumber[299] = "1.0.0 " + badNumber[299]
    try write("number.eam.alloy", badNumber)
    try write("short.eam.alloy", Array(lines.prefix(900)))
    lines[3] = "3 Al Cu"
    try write("elements.eam.alloy", lines)
    try write("Cu_u3.eam", try String(contentsOfFile: inputPath("eam/Cu_u3.eam"), encoding: .utf8)
      .split(separator: "\n", omittingEmptySubsequences: false).prefix(3).map(String.init) + ["0.0 -0.3 x"])
    let cases: [(String, String)] = [
      ("pair_style eam/alloy\npair_coeff * * grid.eam.alloy Al Cu", "grid.eam.alloy:5: expected a number for drho, got 'x'"),
      ("pair_style eam/alloy\npair_coeff * * number.eam.alloy Al Cu", "number.eam.alloy:300: expected a number for rho(r) of Al, got '1.0.0'"),
      ("pair_style eam/alloy\npair_coeff * * short.eam.alloy Al Cu", "short.eam.alloy:900: the file ends after 465 of the 1000 values of F(rho) of Cu"),
      ("pair_style eam/alloy\npair_coeff * * elements.eam.alloy Al Cu", "elements.eam.alloy:4: expected the element count and that many names, got '3 Al Cu'"),
      ("pair_style eam/fs\npair_coeff * * missing.eam.fs Al Cu", "cannot open EAM potential file missing.eam.fs"),
      ("pair_style eam\npair_coeff 1 1 Cu_u3.eam", "Cu_u3.eam:4: expected a number for F(rho), got 'x'"),
      ("pair_style eam/alloy\npair_coeff * * AlCu.eam.alloy Al Zr", "element 'Zr' is not in AlCu.eam.alloy (it has Al, Cu)"),
      ("pair_style eam/alloy\npair_coeff * * AlCu.eam.alloy Al", "expected 2 element names after the file (one per atom type), got 1"),
      ("pair_style eam/alloy\npair_coeff * * AlCu.eam.alloy Al NULL", "type 2 is NULL"),
      ("pair_style eam/alloy\npair_coeff 1 2 AlCu.eam.alloy Al Cu", "expected 'pair_coeff * * FILE ELEMENT…' for pair_style eam/alloy"),
      ("pair_style eam\npair_coeff 1 2 Ni_u3.eam", "pair_style eam sets only like pairs I I"),
      ("pair_style eam\npair_coeff 1 1 Ni_u3.eam\nmass 2 1.0", "pair coefficients for atom type 2 are not set"),
      ("pair_style eam/fs 2.0", "expected pair_style eam/fs (no arguments)"),
    ]
    try FileManager.default.copyItem(atPath: inputPath("eam/AlCu.eam.alloy"), toPath: dir.appendingPathComponent("AlCu.eam.alloy").path)
    try FileManager.default.copyItem(atPath: inputPath("eam/Ni_u3.eam"), toPath: dir.appendingPathComponent("Ni_u3.eam").path)
    // Without mpirun (a singleton MPI job): mpirun's start-up would dominate these short runs.
    func refusal(_ deck: String) throws -> ProcessResult {
      try deck.write(to: dir.appendingPathComponent("in.bad"), atomically: true, encoding: .utf8)
      return try runProcess(tesseraBinary, ["run", "in.bad", "--log", "none"], in: dir)
    }
    for (pair, message) in cases {
      assertRunRefused(try refusal(smallDeck(pair)), saying: message, pair)
    }
    let reduced = smallDeck("pair_style eam/alloy").replacingOccurrences(of: "units metal", with: "units lj")
    assertRunRefused(try refusal(reduced), saying: "eam/alloy potential files are in metal units (Å, eV), not lj", "units lj")
  }
}
