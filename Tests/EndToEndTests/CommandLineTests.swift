import Foundation
import TesseraTestSupport
import XCTest

/// The `tessera` executable as users call it: exit codes, located errors, `-var`, `check`, the log.
final class CommandLineTests: XCTestCase {
  func write(_ text: String, _ name: String = "in.deck") throws -> URL {
    let dir = try makeScratchDirectory("cli")
    try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    return dir
  }

  func assertFails(_ deck: String, ranks: Int, message: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let dir = try write(deck)
    let result = try runTessera(ranks: ranks, ["run", "in.deck"], in: dir)
    XCTAssertNotEqual(result.status, 0, result.combined, file: file, line: line)
    XCTAssert(result.error.contains(message), "stderr lacks '\(message)':\n\(result.combined)", file: file, line: line)
    // Printed once, not once per rank.
    XCTAssertEqual(result.error.components(separatedBy: message).count - 1, 1, result.error, file: file, line: line)
  }

  func testUnknownCommandExitsNonZeroWithLocation() throws {
    for ranks in [1, 2] {
      try assertFails("units lj\nfix_typo 1 all nve\n", ranks: ranks, message: "in.deck:2: unknown command 'fix_typo'")
    }
  }

  func testMalformedNumberExitsNonZeroWithLocation() throws {
    try assertFails("units lj\nlattice fcc 0.8442\nregion box block 0 4 0 4 0 4\ncreate_box 1 box\nmass 1 1.o\n",
                    ranks: 2, message: "in.deck:5: mass: expected a number for mass, got '1.o'")
  }

  func testMissingDataFileExitsNonZeroWithPath() throws {
    try assertFails("units lj\nread_data /nonexistent/system.data\n", ranks: 2,
                    message: "in.deck:2: read_data: cannot open data file '/nonexistent/system.data': no such file")
  }

  func testMissingDeckNamesThePath() throws {
    let dir = try makeScratchDirectory("cli")
    let result = try runTessera(ranks: 1, ["run", "absent.deck"], in: dir)
    XCTAssertNotEqual(result.status, 0)
    XCTAssert(result.error.contains("cannot open input file 'absent.deck': no such file"), result.combined)
  }

  func testLostAtomsStopTheRun() throws {
    // Fixed boundaries and a hot gas: atoms leave through the walls and are reported lost.
    let deck = """
      units lj
      boundary f f f
      lattice sc 0.2
      region box block 0 3 0 3 0 3
      create_box 1 box
      create_atoms 1 box
      mass 1 1.0
      velocity all create 50.0 5
      pair_style lj/cut 2.5
      pair_coeff 1 1 1.0 1.0
      fix 1 all nve
      thermo 10
      run 200
      """
    for ranks in [1, 2] {
      try assertFails(deck, ranks: ranks, message: "lost atoms at step")
    }
  }

  func testVariableFromCommandLineAndLogFile() throws {
    let dir = try write("""
      units lj
      lattice fcc 0.8442
      region box block 0 ${n} 0 ${n} 0 ${n}
      create_box 1 box
      create_atoms 1 box
      mass 1 1.0
      pair_style lj/cut 2.5
      pair_coeff * * 1.0 1.0
      thermo_style custom step atoms pe
      run 0
      """)
    let result = try runTessera(ranks: 2, ["run", "in.deck", "-var", "n", "3", "--log", "run.log"], in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    XCTAssertEqual(thermoRows(result.output).first?["Atoms"], 108)
    let log = try String(contentsOf: dir.appendingPathComponent("run.log"), encoding: .utf8)
    XCTAssert(log.contains("Loop time of"), log)
  }

  /// `--progress` prints elapsed time, step rate and ETA on standard error at thermo steps of runs expected
  /// to take `--progress-after` seconds (0 here, so a short run reports; the default minute keeps it
  /// quiet), and the log file is what it is without: the same lines, no progress in it.
  func testProgressOnStandardErrorLeavesTheLogAlone() throws {
    let dir = try write("""
      units lj
      lattice fcc 0.8442
      region box block 0 3 0 3 0 3
      create_box 1 box
      create_atoms 1 box
      mass 1 1.0
      velocity all create 1.0 87287 loop geom
      pair_style lj/cut 2.5
      pair_coeff * * 1.0 1.0
      fix 1 all nve
      thermo 50
      run 200
      """)
    let reporting = try runTessera(ranks: 2, ["run", "in.deck", "--progress", "--progress-after", "0", "--log", "with.log"], in: dir)
    XCTAssertEqual(reporting.status, 0, reporting.combined)
    let lines = reporting.error.split(separator: "\n").filter { $0.hasPrefix("progress: ") }
    XCTAssertEqual(lines.count, 4, reporting.error)
    XCTAssert(lines.first?.hasPrefix("progress: step 50 of 200 (25%), elapsed ") == true, reporting.error)
    XCTAssert(lines.allSatisfy { $0.contains("steps/s, ETA ") }, reporting.error)
    XCTAssert(lines.last?.hasSuffix("ETA 0:00:00") == true, reporting.error)
    XCTAssertFalse(reporting.output.contains("progress:"), reporting.output)

    let quiet = try runTessera(ranks: 2, ["run", "in.deck", "--progress", "--log", "without.log"], in: dir)
    XCTAssertEqual(quiet.status, 0, quiet.combined)
    XCTAssertFalse(quiet.error.contains("progress:"), quiet.error)
    let with = try String(contentsOf: dir.appendingPathComponent("with.log"), encoding: .utf8)
    let without = try String(contentsOf: dir.appendingPathComponent("without.log"), encoding: .utf8)
    XCTAssertFalse(with.contains("progress"), with)
    XCTAssertEqual(thermoRows(with), thermoRows(without))
    XCTAssertEqual(with.split(separator: "\n").count, without.split(separator: "\n").count, with)
  }

  func testCheckValidatesWithoutRunning() throws {
    let dir = try write("units lj\nlattice fcc 0.8442\nregion box block 0 3 0 3 0 3\ncreate_box 1 box\ncreate_atoms 1 box\n"
      + "mass 1 1.0\npair_style lj/cut 2.5\npair_coeff 1 1 1 1\nfix 1 all nve\nrun 1000000\nwrite_data out.data\n")
    let result = try runTessera(ranks: 1, ["check", "in.deck"], in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    XCTAssert(result.output.contains("run 1000000 steps (from step 0, timestep 0.005):"), result.output)
    XCTAssert(result.output.contains("  atoms: 108 of 1 type, masses 1.0"), result.output)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.data").path))
    let bad = try runTessera(ranks: 1, ["check", "in.bad"], in: try write("units lj\nrun 10\n", "in.bad"))
    XCTAssertNotEqual(bad.status, 0)
    XCTAssert(bad.error.contains("in.bad:2: run: the simulation box is not defined yet"), bad.combined)
  }

  /// `tessera check -np N` prints the plan: box, atoms and types, potential, fixes, output files,
  /// runs, and the processor grid and sub-domains for N ranks; it writes nothing.
  func testCheckPrintsWhatTheDeckWouldDo() throws {
    let dir = try makeScratchDirectory("check-plan")
    try FileManager.default.copyItem(atPath: inputPath("lj/data.melt"), toPath: dir.appendingPathComponent("data.melt").path)
    let deck = try String(contentsOfFile: inputPath("lj/in.melt_data"), encoding: .utf8)
      .replacingOccurrences(of: "run             20", with: "dump d all xyz 5 out.xyz\nrestart 10 a.rst b.rst\nrun 20\nrun 30\nwrite_restart end.rst")
    try deck.write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
    let before = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    let result = try runTessera(ranks: 1, ["check", "in.deck", "-np", "4"], in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    let length = 3.3591923827650145
    for expected in [
      "run 20 steps (from step 0, timestep 0.005):", "run 30 steps (from step 20, timestep 0.005):",
      "  box: triclinic (tilts 0.5038788574147521 0.0 0.0) from (0.0, 0.0, 0.0) to (\(length), \(length), \(length)), periodic p p p",
      "  atoms: 32 of 2 types, masses 1.0 2.0",
      "  potential: pair_style lj/cut 1.2, cutoff 1.2, skin 0.3",
      "  fix 1: nve", "  dump d: every 5 steps to out.xyz", "  restart: every 10 steps to a.rst and b.rst",
      "write_restart end.rst at step 50", "check: in.deck is valid",
    ] {
      XCTAssert(result.output.contains(expected), "lacks '\(expected)':\n\(result.output)")
    }
    let grid = try XCTUnwrap(result.output.firstMatch(of: /4 ranks: processor grid (\d+)x(\d+)x(\d+), sub-domains (\S+) x (\S+) x (\S+)/))
    let counts = [grid.1, grid.2, grid.3].map { Int($0)! }, sub = [grid.4, grid.5, grid.6].map { Double($0)! }
    XCTAssertEqual(counts.reduce(1, *), 4)
    for d in 0..<3 { XCTAssertEqual(sub[d] * Double(counts[d]), length, accuracy: 1e-12) }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), before)

    // A Deep Potential deck shows its model's type map, cut-off and sel.
    let cu = try runTessera(ranks: 2, ["check", "in.cu", "-np", "8"], in: URL(fileURLWithPath: inputPath("cu")))
    XCTAssertEqual(cu.status, 0, cu.combined)
    XCTAssert(cu.output.contains("  model: type_map [Cu], rcut 6.0, sel [") , cu.output)
    XCTAssert(cu.output.contains("  8 ranks: processor grid 2x2x2, sub-domains 7.23 x 7.23 x 7.23"), cu.output)
    XCTAssertEqual(cu.output.components(separatedBy: "check: in.cu is valid").count - 1, 1, "printed once:\n\(cu.output)")
  }

  func testVersion() throws {
    let result = try runProcess(tesseraBinary, ["--version"])
    XCTAssertEqual(result.status, 0)
    XCTAssert(result.output.hasPrefix("0."), result.output)
  }
}
