import Foundation
import TesseraTestSupport
import XCTest

/// Restarts continue a run exactly: bit for bit from a periodic restart on the same rank count, to
/// round-off on another; damaged files are refused.
final class RestartTests: XCTestCase {
  let system = fccCrystalDeck(cells: 5, velocity: "1.5 4928459")

  /// The same crystal in a tilted box, for the barostat's `tri`.
  var triclinicSystem: String {
    system.replacingOccurrences(of: "region box block 0 5 0 5 0 5", with: "region box prism 0 5 0 5 0 5 1 0.5 0.5")
  }

  func forces(_ fixes: String) -> String {
    """
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    neighbor 0.3 bin
    \(fixes)
    thermo_style custom step time temp pe ke etotal ecouple econserve press vol
    thermo_modify format float %.17g
    thermo 100
    """
  }

  func run(_ deck: String, ranks: Int, in dir: URL) throws -> ProcessResult {
    let result = try runDeck(deck, named: "in.deck", ranks: ranks, in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    return result
  }

  /// Thermo rows as printed, from `step` on.
  func rows(_ output: String, from step: Int) -> [String] {
    output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { line in
      let fields = line.split(separator: " ")
      return fields.allSatisfy { Double($0) != nil } && (Int(fields.first ?? "") ?? -1) >= step
    }
  }

  func assertExactContinuation(_ fixes: String, ranks: Int, system: String? = nil) throws {
    let dir = try makeScratchDirectory("restart")
    let whole = try run((system ?? self.system) + "\n" + forces(fixes) + "\nrestart 500 r.*.bin\nrun 1000\n", ranks: ranks, in: dir)
    let continued = try run("units lj\natom_style atomic\nread_restart r.500.bin\n" + forces(fixes)
                              + "\nrestart 500 s.*.bin\nrun 500\n", ranks: ranks, in: dir)
    let expected = rows(whole.output, from: 500), actual = rows(continued.output, from: 500)
    XCTAssertEqual(expected.count, 6, whole.output)
    XCTAssertEqual(actual, expected, "\(fixes) on \(ranks) ranks")
    // The state at step 1000, positions and velocities included, is the same to the bit.
    let a = try Data(contentsOf: dir.appendingPathComponent("r.1000.bin"))
    let b = try Data(contentsOf: dir.appendingPathComponent("s.1000.bin"))
    XCTAssertEqual(a, b, "restart files at step 1000 differ")
  }

  /// Simulated time is step × timestep from its origin, as LAMMPS's atime/atimestep, not a sum of run
  /// lengths: 1 + 5 steps of 0.005 add up to 0.030000000000000002, 6 steps to 0.03. A restart keeps the
  /// origin and the timestep, and restating the same timestep does not move the origin.
  func testSimulatedTimeContinuesToTheBit() throws {
    let dir = try makeScratchDirectory("restart-time")
    let whole = try run(system + "\n" + forces("fix 1 all nve") + "\nthermo 1\nrestart 1 w.*.bin\nrun 6\n", ranks: 1, in: dir)
    let continued = try run("units lj\natom_style atomic\nread_restart w.1.bin\ntimestep 0.005\n" + forces("fix 1 all nve")
                              + "\nthermo 1\nrestart 1 c.*.bin\nrun 5\n", ranks: 1, in: dir)
    let time = { (output: String) in self.rows(output, from: 6).first?.split(separator: " ")[1] }
    XCTAssertEqual(time(whole.output), "0.029999999999999999", whole.output)
    XCTAssertEqual(time(continued.output), time(whole.output), continued.output)
    XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("c.6.bin")),
                   try Data(contentsOf: dir.appendingPathComponent("w.6.bin")), "restart files at step 6 differ")
  }

  func testNVEContinuesBitForBit() throws {
    try assertExactContinuation("fix 1 all nve", ranks: 2)
  }

  func testThermostatsContinueBitForBit() throws {
    try assertExactContinuation("fix 1 all nvt temp 1.2 1.2 0.5\nfix 2 all temp/csvr 1.2 1.2 0.5 7", ranks: 2)
  }

  /// Langevin's forces of the restart step come back with the file: the continued run's first step
  /// does not recompute the drag from full-step velocities.
  func testLangevinContinuesBitForBit() throws {
    try assertExactContinuation("fix 1 all nve\nfix 2 all langevin 1.2 1.2 0.5 99 zero yes", ranks: 2)
  }

  /// The barostat's whole state (ω̇, both chains, reference volume, fixed point) and the box to the bit.
  func testBarostatsContinueBitForBit() throws {
    try assertExactContinuation("fix 1 all npt temp 1.2 1.2 0.5 iso 2.0 2.0 2.5", ranks: 2)
    try assertExactContinuation("fix 1 all npt temp 1.2 1.2 0.5 tri 2.0 2.0 2.5", ranks: 2, system: triclinicSystem)
  }

  func testContinuesOnAnotherRankCount() throws {
    try assertContinuesOnOtherRankCounts("fix 1 all nvt temp 1.2 1.2 0.5", system: system)
  }

  func testBarostatsContinueOnAnotherRankCount() throws {
    try assertContinuesOnOtherRankCounts("fix 1 all npt temp 1.2 1.2 0.5 iso 2.0 2.0 2.5", system: system)
    try assertContinuesOnOtherRankCounts("fix 1 all npt temp 1.2 1.2 0.5 tri 2.0 2.0 2.5", system: triclinicSystem)
  }

  /// Written on 4 ranks, continued on 1 and 3: agreement to round-off over 200 steps.
  func assertContinuesOnOtherRankCounts(_ fixes: String, system: String) throws {
    let dir = try makeScratchDirectory("restart-ranks")
    let whole = try run(system + "\n" + forces(fixes) + "\nrun 300\nwrite_restart r.bin\nrun 200\n", ranks: 4, in: dir)
    let expected = thermoRows(whole.output).filter { $0["Step"]! >= 300 }
    for ranks in [1, 3] {
      let continued = try run("units lj\natom_style atomic\nread_restart r.bin\n" + forces(fixes) + "\nrun 200\n",
                              ranks: ranks, in: dir)
      let actual = thermoRows(continued.output)
      // Step 300 ends the first run and opens the second: the second run's three rows are the last.
      XCTAssertEqual(expected.count, 4, whole.output)
      assertThermoTablesAgree(Array(expected.suffix(3)), actual, tolerance: 1e-10, "\(fixes), \(ranks) ranks")
    }
  }

  func testDamagedRestartsAreRefused() throws {
    let dir = try makeScratchDirectory("restart-damaged")
    _ = try run(system + "\n" + forces("fix 1 all nve") + "\nrun 10\nwrite_restart good.bin\n", ranks: 1, in: dir)
    let good = try Data(contentsOf: dir.appendingPathComponent("good.bin"))
    try good.prefix(good.count / 2).write(to: dir.appendingPathComponent("cut.bin"))
    var flipped = good
    flipped[flipped.count / 2] ^= 0x10
    try flipped.write(to: dir.appendingPathComponent("flipped.bin"))
    try "not a restart".write(to: dir.appendingPathComponent("text.bin"), atomically: true, encoding: .utf8)
    let cases = [
      ("cut.bin", "cut.bin: checksum mismatch: the file is truncated or damaged"),
      ("flipped.bin", "flipped.bin: checksum mismatch"),
      ("text.bin", "text.bin: not a Tessera restart file"),
      ("missing.bin", "missing.bin: cannot read the restart file"),
    ]
    for (name, message) in cases {
      let result = try runDeck("units lj\natom_style atomic\nread_restart \(name)\n", named: "in.read", ranks: 1, in: dir)
      XCTAssertNotEqual(result.status, 0)
      XCTAssertTrue(result.combined.contains("in.read:3: read_restart: ") && result.combined.contains(message), result.combined)
    }
    // A fix redefined with another style cannot take the saved state.
    let mismatch = try runDeck("units lj\natom_style atomic\nread_restart good.bin\n" + forces("fix 1 all nvt temp 1 1 0.5"),
                               named: "in.style", ranks: 1, in: dir)
    XCTAssertNotEqual(mismatch.status, 0)
    XCTAssertTrue(mismatch.combined.contains("the restart holds fix '1' of style nve, not nvt"), mismatch.combined)
  }

  /// A restart that cannot be written stops the run with the path, and an earlier file at that
  /// path is left whole.
  func testFailedWriteLeavesThePreviousFile() throws {
    let dir = try makeScratchDirectory("restart-write")
    _ = try run(system + "\n" + forces("fix 1 all nve") + "\nrun 10\nwrite_restart keep.bin\n", ranks: 1, in: dir)
    let before = try Data(contentsOf: dir.appendingPathComponent("keep.bin"))
    // A path under a regular file cannot be created, even by root.
    let result = try runDeck(system.appending("\n" + forces("fix 1 all nve") + "\nrun 10\nwrite_restart keep.bin/inner.bin\n"),
                             named: "in.fail", ranks: 2, in: dir)
    XCTAssertNotEqual(result.status, 0)
    XCTAssertTrue(result.combined.contains("keep.bin/inner.bin"), result.combined)
    XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("keep.bin")), before)
  }

  /// A restart remembers the Deep Potential it was run with: continuing with another model is refused.
  func testRestartRemembersTheModel() throws {
    let dir = try makeScratchDirectory("restart-model")
    let copper = inputPath("models/cu_se_e2_a/cu_se_e2_a.dp"), alloy = inputPath("models/cuau_se_e2_a/cuau_se_e2_a.dp")
    _ = try run("""
      units metal
      lattice fcc 3.615
      region box block 0 1 0 1 0 1
      create_box 1 box
      create_atoms 1 box
      mass 1 63.546
      pair_style deepmd \(copper)
      pair_coeff * * Cu
      fix 1 all nve
      run 2
      write_restart cu.bin
      """, ranks: 1, in: dir)
    for (model, accepted) in [(copper, true), (alloy, false)] {
      let result = try runDeck("units metal\nread_restart cu.bin\npair_style deepmd \(model)\npair_coeff * * Cu\nfix 1 all nve\nrun 2\n",
                               named: "in.continue", ranks: 1, in: dir)
      XCTAssertEqual(result.status == 0, accepted, result.combined)
      if !accepted {
        XCTAssertTrue(result.combined.contains("is not the model the restart was written with"), result.combined)
      }
    }
  }
}
