import Foundation
import TesseraTestSupport
import XCTest

/// Runs the seeded mutation fuzzer (`tessera-fuzz`) over the decks, data file and models in
/// `inputs/`: 10,000 fixed cases split between two child processes, so that a trap in a parser
/// kills a child (which prints the case to replay) rather than the test runner.
final class FuzzTests: XCTestCase {
  /// `tessera-fuzz` from the same build as the `tessera` under test.
  var fuzzBinary: String {
    URL(fileURLWithPath: tesseraBinary).deletingLastPathComponent().appendingPathComponent("tessera-fuzz").path
  }

  func testTenThousandMutatedInputsNeverCrashHangOrGoUnlocated() throws {
    let halves = [(first: 0, count: 5000), (first: 5000, count: 5000)]
    let scratch = try makeScratchDirectory("fuzz")
    // Both halves at once (CI has two cores); output goes to files, so neither can block on a pipe.
    let children = try halves.enumerated().map { i, half in
      try startProcess(fuzzBinary, [
        "--inputs", inputPath(""), "--work", scratch.appendingPathComponent("work\(i)").path,
        "--seed", "20261125", "--first", "\(half.first)", "--count", "\(half.count)", "--timeout", "30",
      ], output: scratch.appendingPathComponent("out\(i)"), error: scratch.appendingPathComponent("err\(i)"))
    }
    let results = children.map { $0.waitForResult() }
    for (i, half) in halves.enumerated() {
      let result = results[i]
      XCTAssertEqual(result.status, 0, "fuzz cases \(half.first)..<\(half.first + half.count) failed:\n\(result.combined.suffix(4000))")
      let summary = "fuzz: seed 20261125, cases \(half.first)..<\(half.first + half.count): \(half.count) run, "
      XCTAssertTrue(result.output.contains(summary), result.combined.suffix(2000).description)
      XCTAssertTrue(result.output.contains(" 0 unlocated"), result.output)
      // Both outcomes occur, so the mutations neither all miss the parsers nor all break the inputs.
      let accepted = result.output.firstMatch(of: /(\d+) accepted/).map { Int($0.1)! } ?? 0
      let rejected = result.output.firstMatch(of: /(\d+) rejected/).map { Int($0.1)! } ?? 0
      XCTAssertGreaterThan(accepted, 0)
      XCTAssertGreaterThan(rejected, half.count / 2)
    }
  }

  /// The harness itself notices a crash and a hang: the case that traps or stalls is printed
  /// with its seed and number, and the process fails.
  func testATrapOrAHangInACaseIsReportedWithItsReplayLine() throws {
    for (mode, evidence) in [("trap", "died of signal"), ("hang", "ran longer than 1.0 s (hang)")] {
      let scratch = try makeScratchDirectory("fuzz-\(mode)")
      let result = try runProcess(fuzzBinary, [
        "--inputs", inputPath(""), "--work", scratch.path, "--first", "7", "--count", "3", "--timeout", "1",
        "--self-test", mode,
      ])
      XCTAssertNotEqual(result.status, 0, mode)
      XCTAssertTrue(result.error.contains("FUZZ FAILURE: seed 20261125 case 7:"), result.combined)
      XCTAssertTrue(result.error.contains(evidence), result.combined)
    }
  }
}
