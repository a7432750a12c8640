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

  func testCheckValidatesWithoutRunning() throws {
    let dir = try write("units lj\nlattice fcc 0.8442\nregion box block 0 3 0 3 0 3\ncreate_box 1 box\ncreate_atoms 1 box\n"
      + "mass 1 1.0\npair_style lj/cut 2.5\npair_coeff 1 1 1 1\nfix 1 all nve\nrun 1000000\nwrite_data out.data\n")
    let result = try runTessera(ranks: 1, ["check", "in.deck"], in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    XCTAssert(result.output.contains("run 1000000: 108 atoms"), result.output)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.data").path))
    let bad = try runTessera(ranks: 1, ["check", "in.bad"], in: try write("units lj\nrun 10\n", "in.bad"))
    XCTAssertNotEqual(bad.status, 0)
    XCTAssert(bad.error.contains("in.bad:2: run: the simulation box is not defined yet"), bad.combined)
  }

  func testVersion() throws {
    let result = try runProcess(tesseraBinary, ["--version"])
    XCTAssertEqual(result.status, 0)
    XCTAssert(result.output.hasPrefix("0."), result.output)
  }
}
