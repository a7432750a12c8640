import Foundation
import TesseraTestSupport
import XCTest

/// Box flips of `fix npt`/`nph` (`flip yes`, LAMMPS's default) against Debian's `lmp`: a small LJ liquid
/// in a tilted box sheared by large shear-stress targets, so that its tilts pass 0.6 of their box
/// lengths and the box flips four times in 500 steps (xz at about step 240, yz at 330 — which moves xz
/// by xy —, xy at 360, xz again at 480). Thermo, the image flags LAMMPS's `image_flip` gives and the
/// wrapped positions must agree on 1 and 4 ranks; a restart written after flips continues bit for
/// bit; with `flip no` the tilt grows until LAMMPS's bound of 1.5 box lengths stops both codes at the
/// same step.
final class BoxFlipTests: XCTestCase {
  let lammps = "/usr/bin/lmp"
  /// Normal stresses at 0.2, shear targets of 3 to 4 with 0.2 τ damping: the liquid flows.
  let shearing = "fix 1 all npt temp 0.8 0.8 0.5 x 0.2 0.2 1.0 y 0.2 0.2 1.0 z 0.2 0.2 1.0 "
    + "xy 3.0 3.0 0.2 yz -3.0 -3.0 0.2 xz 4.0 4.0 0.2"

  /// An 864-atom fcc crystal in a tilted box, melted by LAMMPS (`meltLiquidWithLammps`) into the
  /// initial state of both codes.
  let region = "region box prism 0 6 0 6 0 6 1 0.5 0.5"
  var system: String {
    """
    lattice fcc 0.8442
    \(region)
    create_box 1 box
    create_atoms 1 box
    mass 1 1.0
    """
  }

  /// The force field, `fixes` and every thermo column printed exactly, thermo every `every` steps.
  func settings(_ fixes: String, every: Int) -> String {
    """
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    neighbor 0.3 bin
    neigh_modify every 1 delay 0 check yes
    timestep 0.002
    \(fixes)
    thermo_style custom step temp pe ke etotal press vol lx ly lz xy xz yz pxx pyy pzz pxy pxz pyz density ecouple econserve
    thermo_modify format float %.16g norm no
    thermo \(every)
    """
  }

  func liquidDeck(_ fixes: String, every: Int, steps: Int, extra: String = "") -> String {
    "units lj\natom_style atomic\natom_modify map array\nread_data liquid.data\n" + settings(fixes, every: every)
      + "\n\(extra)\nrun \(steps)\n"
  }

  func lammpsAvailable() -> Bool {
    if FileManager.default.isExecutableFile(atPath: lammps) { return true }
    XCTFail("LAMMPS (Debian package lammps) is not installed; `make test` installs it")
    return false
  }

  /// Every column of every row to 1e-8 relative (`assertThermoTablesAgree`).
  func assertSameRows(_ expected: [[String: Double]], _ actual: [[String: Double]], _ label: String,
                      file: StaticString = #filePath, line: UInt = #line) {
    assertThermoTablesAgree(expected, actual, tolerance: 1e-8, "\(label), LAMMPS vs Tessera", file: file, line: line)
  }

  /// Flips seen between consecutive rows: a tilt jumping by more than half its box length.
  func flips(_ rows: [[String: Double]], _ tilt: String) -> Int {
    let length = tilt == "Yz" ? "Ly" : "Lx"
    return zip(rows, rows.dropFirst()).filter { abs($1[tilt]! - $0[tilt]!) > 0.5 * $1[length]! }.count
  }

  /// Four flips of all three tilts, on 1 and 4 ranks: thermo every 10 steps, and dumps every 50 steps
  /// (sorted by id, positions to 16 digits) with the same image flags and positions as LAMMPS's.
  func testFlipsAgreeWithLammps() throws {
    guard lammpsAvailable() else { return }
    let dir = try makeScratchDirectory("box-flip")
    try meltLiquidWithLammps(in: dir, region: region)
    let dump = "dump 1 all custom 50 ${code}.*.dump id type x y z ix iy iz\ndump_modify 1 sort id format float %.16g"
    try liquidDeck(shearing, every: 10, steps: 500, extra: dump)
      .write(to: dir.appendingPathComponent("in.flip"), atomically: true, encoding: .utf8)
    for ranks in [1, 4] {
      let lammpsRun = try runProcess("/usr/bin/mpirun", ["--oversubscribe", "-np", "\(ranks)", lammps, "-in", "in.flip",
                                                         "-log", "none", "-var", "code", "lammps"], in: dir)
      XCTAssertEqual(lammpsRun.status, 0, lammpsRun.combined)
      let tessera = try runTessera(ranks: ranks, ["run", "in.flip", "--log", "none", "-var", "code", "tessera"], in: dir)
      XCTAssertEqual(tessera.status, 0, tessera.combined)
      let expected = thermoRows(lammpsRun.output)
      XCTAssertEqual(expected.count, 51, lammpsRun.output)
      assertSameRows(expected, thermoRows(tessera.output), "\(ranks) ranks")
      XCTAssertEqual(flips(expected, "Xy"), 1, "xy \(expected.map { $0["Xy"]! })")
      XCTAssertEqual(flips(expected, "Yz"), 1, "yz \(expected.map { $0["Yz"]! })")
      XCTAssertEqual(flips(expected, "Xz"), 2, "xz \(expected.map { $0["Xz"]! })")
      for step in stride(from: 200, through: 500, by: 50) {
        let reference = try dumpedAtoms(dir.appendingPathComponent("lammps.\(step).dump"))
        let mine = try dumpedAtoms(dir.appendingPathComponent("tessera.\(step).dump"))
        XCTAssertEqual(mine.count, 864)
        XCTAssertEqual(mine.map(\.id), reference.map(\.id))
        XCTAssertEqual(mine.map(\.image), reference.map(\.image), "\(ranks) ranks, image flags at step \(step)")
        let worst = zip(mine, reference).map { (($0.x - $1.x) * ($0.x - $1.x)).sum().squareRoot() }.max()!
        XCTAssertLessThan(worst, 1e-8, "\(ranks) ranks, positions at step \(step)")
      }
      // After the flips most atoms have crossed the box in the sheared directions.
      let last = try dumpedAtoms(dir.appendingPathComponent("lammps.500.dump"))
      XCTAssertGreaterThan(last.filter { $0.image != SIMD3(0, 0, 0) }.count, 500)
    }
  }

  /// A dump frame's atoms: id, position, image flags.
  func dumpedAtoms(_ url: URL) throws -> [(id: Int, x: SIMD3<Double>, image: SIMD3<Int32>)] {
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
    guard let header = lines.firstIndex(where: { $0.hasPrefix("ITEM: ATOMS") }) else { return [] }
    return lines[(header + 1)...].map { line in
      let w = line.split(separator: " ")
      return (Int(w[0])!, SIMD3(Double(w[2])!, Double(w[3])!, Double(w[4])!), SIMD3(Int32(w[5])!, Int32(w[6])!, Int32(w[7])!))
    }
  }

  /// `flip no`: the box keeps tilting, and LAMMPS's bound (a tilt beyond 1.5 times its box length)
  /// stops both codes at the same step, Tessera with a message naming the fix, the tilt and the step.
  func testFlipNoStopsWhereLammpsDoes() throws {
    guard lammpsAvailable() else { return }
    let dir = try makeScratchDirectory("box-flip-no")
    try meltLiquidWithLammps(in: dir, region: region)
    try liquidDeck(shearing + " flip no", every: 1, steps: 1000)
      .write(to: dir.appendingPathComponent("in.flip"), atomically: true, encoding: .utf8)
    let lammpsRun = try runProcess(lammps, ["-in", "in.flip", "-log", "none"], in: dir)
    XCTAssertNotEqual(lammpsRun.status, 0)
    XCTAssertTrue(lammpsRun.output.contains("Fix npt/nph has tilted box too far in one step"), lammpsRun.combined)
    let tessera = try runTessera(ranks: 1, ["run", "in.flip", "--log", "none"], in: dir)
    XCTAssertNotEqual(tessera.status, 0)
    let expected = thermoRows(lammpsRun.output)
    assertSameRows(expected, thermoRows(tessera.output), "flip no")
    let stop = Int(expected.last!["Step"]!) + 1
    XCTAssertGreaterThan(stop, 300)
    XCTAssertTrue(tessera.combined.contains("ERROR: fix 1: the barostat tilted the box too far at step \(stop): xz = "),
                  tessera.combined)
    XCTAssertTrue(tessera.combined.contains("beyond 1.5 times the box length"), tessera.combined)
    XCTAssertTrue(tessera.combined.contains("flip no"), tessera.combined)
    let ratios = expected.map { abs($0["Xz"]!) / $0["Lx"]! }
    XCTAssertGreaterThan(ratios.max()!, 1.4, "the tilt went far past the flip threshold unflipped")
  }

  /// A run restarted from a file written after three flips (the continued deck sees the flipped box)
  /// goes through the fourth flip as the uninterrupted run does: thermo and the next restart file
  /// the same to the bit, on 2 ranks.
  func testRestartAfterFlipsContinuesBitForBit() throws {
    guard lammpsAvailable() else { return }
    let dir = try makeScratchDirectory("box-flip-restart")
    try meltLiquidWithLammps(in: dir, region: region)
    try liquidDeck(shearing, every: 20, steps: 500, extra: "restart 100 r.*.bin")
      .write(to: dir.appendingPathComponent("in.whole"), atomically: true, encoding: .utf8)
    let continued = "units lj\natom_style atomic\nread_restart r.400.bin\n" + settings(shearing, every: 20)
      + "\nrestart 100 s.*.bin\nrun 100\n"
    try continued.write(to: dir.appendingPathComponent("in.continued"), atomically: true, encoding: .utf8)
    let whole = try runTessera(ranks: 2, ["run", "in.whole", "--log", "none"], in: dir)
    XCTAssertEqual(whole.status, 0, whole.combined)
    let rest = try runTessera(ranks: 2, ["run", "in.continued", "--log", "none"], in: dir)
    XCTAssertEqual(rest.status, 0, rest.combined)
    let rows = thermoRows(whole.output)
    XCTAssertEqual(rows.count, 26)
    let before = rows.filter { $0["Step"]! <= 400 }, after = rows.filter { $0["Step"]! >= 400 }
    XCTAssertEqual(["Xy", "Xz", "Yz"].map { flips(before, $0) }.reduce(0, +), 3, "flips before the restart")
    XCTAssertEqual(["Xy", "Xz", "Yz"].map { flips(after, $0) }.reduce(0, +), 1, "flips after the restart")
    XCTAssertEqual(printedRows(rest.output, from: 400), printedRows(whole.output, from: 400))
    XCTAssertEqual(printedRows(rest.output, from: 400).count, 6)
    let a = try Data(contentsOf: dir.appendingPathComponent("r.500.bin"))
    let b = try Data(contentsOf: dir.appendingPathComponent("s.500.bin"))
    XCTAssertEqual(a, b, "restart files at step 500 differ")
  }

  /// `flip` takes yes or no, located.
  func testBadFlipValue() throws {
    let dir = try makeScratchDirectory("box-flip-keyword")
    let deck = "units lj\natom_style atomic\n\(system)\n" + settings(shearing + " flip maybe", every: 10) + "\nrun 10\n"
    try deck.write(to: dir.appendingPathComponent("in.flip"), atomically: true, encoding: .utf8)
    let result = try runTessera(ranks: 1, ["run", "in.flip", "--log", "none"], in: dir)
    XCTAssertNotEqual(result.status, 0)
    XCTAssertTrue(result.combined.contains("in.flip:13: fix: flip must be yes or no, got 'maybe'"), result.combined)
  }

  /// Thermo rows as printed, from `step` on.
  func printedRows(_ output: String, from step: Int) -> [String] {
    output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { line in
      let fields = line.split(separator: " ")
      return fields.allSatisfy { Double($0) != nil } && (Int(fields.first ?? "") ?? -1) >= step
    }
  }
}
