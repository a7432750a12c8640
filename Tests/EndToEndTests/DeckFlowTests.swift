import Foundation
import TesseraTestSupport
import XCTest

/// `if`/`elif`/`else`, `label`, `jump SELF|FILE [LABEL]`, `next` loops and `print` against Debian's
/// `lmp` on the same decks: every printed line the same. Both are started with LAMMPS's command
/// line (`-in`, `-var`, `-log none`, `-echo none`, `-screen`, standard input), which is itself under
/// test here.
final class DeckFlowTests: XCTestCase {
  let lammps = "/usr/bin/lmp"

  /// Branches on numbers, words, every operator and precedence; a loop over an index variable given
  /// on the command line (`-var`), one made with jump SELF and a label ahead, and a jump into another
  /// file at a label; the commands an `if` runs see variables as they are then.
  let flow = """
    variable a equal 3
    variable w string copper
    if "${a} > 2 && ${a} < 4" then "print 'P: and'" else "print 'P: not and'"
    if "1 |^ 1" then "print 'P: xor'" else "print 'P: not xor'"
    if "!(${a} == 3) || 0" then "print 'P: not'" else "print 'P: not not'"
    if "${w} == copper" then "print 'P: word ${w}'"
    if "${w} != copper" then "print 'P: wrong word'"
    if "0" then "print 'P: zero'" elif "${a} <= 2" "print 'P: elif 1'" elif "-1 < 0.5e0" "print 'P: elif 2'" "print 'P: elif 2 again'" else "print 'P: else'"
    if "0" then "print 'P: none'" else "variable a equal 7" "print 'P: a is now ${a}'"
    if "1 < 2 == 1" then "print 'P: precedence'"
    if "(1 || 0) && !0 && 2 >= 2 && 3 != 4" then "print 'P: mixed'"
    label loop
    print "P: n = ${n}"
    next n
    jump SELF loop
    variable k index 1 2 3
    label again
    if "${k} == 2" then "print 'P: k two'" else "print 'P: k ${k}'"
    next k
    jump SELF again
    jump in.second there
    print "P: never (jumped away)"
    """
  let second = """
    print "P: not at the label"
    label there
    print "P: second file, a = ${a}"
    """

  func printed(_ output: String) -> [String] {
    output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("P: ") }
  }

  func flowDirectory() throws -> URL {
    let dir = try makeScratchDirectory("deck-flow")
    try flow.write(to: dir.appendingPathComponent("in.flow"), atomically: true, encoding: .utf8)
    try second.write(to: dir.appendingPathComponent("in.second"), atomically: true, encoding: .utf8)
    return dir
  }

  func testFlowPrintsWhatLammpsPrints() throws {
    guard FileManager.default.isExecutableFile(atPath: lammps) else { return XCTFail("Debian's lmp is not installed") }
    let dir = try flowDirectory()
    let arguments = ["-in", "in.flow", "-var", "n", "x", "y", "z", "-log", "none", "-echo", "none"]
    let reference = try runProcess(lammps, arguments, in: dir)
    XCTAssertEqual(reference.status, 0, reference.combined)
    let expected = printed(reference.output)
    XCTAssertEqual(expected.count, 16, reference.output)
    for ranks in [1, 4] {
      let tessera = try runTessera(ranks: ranks, arguments, in: dir)
      XCTAssertEqual(tessera.status, 0, tessera.combined)
      XCTAssertEqual(printed(tessera.output), expected, "\(ranks) ranks")
    }
  }

  /// `tessera < in.flow` under mpirun (only rank 0 has the deck on standard input); `-i` with
  /// `-screen none` and a log file; the old subcommand form still works.
  func testDeckOnStandardInputAndScreenAndLog() throws {
    let dir = try flowDirectory()
    let piped = try runProcess("/bin/sh", ["-c", "/usr/bin/mpirun --oversubscribe -np 2 \(tesseraBinary) -var n x y z -log none < in.flow"], in: dir)
    XCTAssertEqual(piped.status, 0, piped.combined)
    XCTAssertEqual(printed(piped.output).first, "P: and", piped.combined)
    XCTAssertEqual(printed(piped.output).last, "P: second file, a = 7", piped.combined)

    let quiet = try runTessera(ranks: 1, ["-i", "in.flow", "-v", "n", "x", "-screen", "none", "-log", "flow.log", "-nocite"], in: dir)
    XCTAssertEqual(quiet.status, 0, quiet.combined)
    XCTAssertEqual(printed(quiet.output), [], "-screen none prints nothing")
    let log = try String(contentsOf: dir.appendingPathComponent("flow.log"), encoding: .utf8)
    XCTAssertTrue(log.contains("P: n = x\n") && log.contains("P: second file, a = 7"), log)

    let subcommand = try runTessera(ranks: 1, ["run", "in.flow", "-var", "n", "x", "--log", "none"], in: dir)
    XCTAssertEqual(subcommand.status, 0, subcommand.combined)
    XCTAssertEqual(printed(subcommand.output), printed(log))
  }

  /// Switches that would change what LAMMPS computes are refused by name; so are unknown ones and
  /// switches missing their values.
  func testRefusedSwitches() throws {
    let dir = try flowDirectory()
    for (arguments, message) in [
      (["-in", "in.flow", "-sf", "omp"], "-sf: accelerator suffixes"),
      (["-pk", "omp", "4", "-in", "in.flow"], "-pk: accelerator package settings"),
      (["-k", "on", "-in", "in.flow"], "-k: Tessera has no KOKKOS mode"),
      (["-in", "in.flow", "-partition", "2x1"], "unsupported LAMMPS command-line switch '-partition'"),
      (["-in"], "-in expects a deck file"),
      (["-in", "in.flow", "-var", "n"], "-var n expects at least one value"),
      (["-in", "in.flow", "-echo", "loud"], "-echo expects none, screen, log or both, got 'loud'"),
      (["-in", "missing.deck", "-log", "none"], "cannot open input file 'missing.deck': no such file"),
    ] {
      let result = try runProcess(tesseraBinary, arguments, in: dir)
      assertRunRefused(result, saying: message, arguments.joined(separator: " "))
    }
  }

  /// Bad flow is a located error naming what was wrong (one rank, without mpirun: errors are read
  /// the same by every rank).
  func testBadFlowIsLocated() throws {
    let dir = try makeScratchDirectory("deck-flow-errors")
    for (line, message) in [
      ("if \"1 ^ 1\" then \"print x\"", "in.bad:2: if: invalid Boolean expression '1 ^ 1': '^' is not an operator here; exclusive or is '|^'"),
      ("if \"abc < abd\" then \"print x\"", "in.bad:2: if: invalid Boolean expression 'abc < abd': words compare only with == or !="),
      ("if \"abc == 3\" then \"print x\"", "a word compares only with a word"),
      ("if \"1 &&\" then \"print x\"", "an operand is missing at its end"),
      ("if \"(1\" then \"print x\"", "missing ')'"),
      ("if \"1\" \"print x\"", "in.bad:2: if: expected if \"BOOL\" then"),
      ("if \"1\" then \"print x\" else", "in.bad:2: if: no command after else"),
      ("if \"1\" then \"print x\" elif \"0\"", "no command to run when '0' is true"),
      ("if \"1\" then \"frobnicate\"", "in.bad:2: unknown command 'frobnicate'"),
      ("jump SELF nowhere", "in.bad:2: jump: label 'nowhere' not found in in.bad"),
      ("jump in.none", "in.bad:2: cannot open input file 'in.none': no such file"),
      ("box tilt medium", "in.bad:2: box: expected 'tilt large' or 'tilt small', got 'tilt medium'"),
    ] {
      try "print start\n\(line)\n".write(to: dir.appendingPathComponent("in.bad"), atomically: true, encoding: .utf8)
      let result = try runProcess(tesseraBinary, ["-in", "in.bad", "-log", "none"], in: dir)
      assertRunRefused(result, saying: message, line)
    }
  }
}
