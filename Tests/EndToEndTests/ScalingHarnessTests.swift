import Foundation
import TesseraTestSupport
import XCTest

/// bench/scaling/run.sh end to end on 1 and 2 ranks with the small systems: its table has every
/// deck, scaling kind and rank count with the bytes each rank sent, and its two plots are PNG files.
final class ScalingHarnessTests: XCTestCase {
  func testHarnessWritesTableAndPlotsOnOneAndTwoRanks() throws {
    let out = try makeScratchDirectory("scaling")
    let script = repositoryRoot.appendingPathComponent("bench/scaling/run.sh").path
    let result = try runProcess(script, ["2", "small", out.path], environment: ["TESSERA_BINARY": tesseraBinary])
    XCTAssertEqual(result.status, 0, result.combined)
    let table = try String(contentsOf: out.appendingPathComponent("RESULTS.md"), encoding: .utf8)
    for deck in ["lj", "cu"] {
      for kind in ["strong", "weak"] {
        for ranks in [1, 2] {
          XCTAssertTrue(table.contains("| \(deck) | \(kind) | \(ranks) |") || table.contains("| \(deck) | \(kind) | \(ranks) † |"), "no \(deck) \(kind) \(ranks)-rank row:\n\(table)")
        }
      }
    }
    // The last column, bytes sent per rank and step: nothing on one rank, the ghost shell on two.
    for row in table.split(separator: "\n") where row.hasPrefix("| lj |") || row.hasPrefix("| cu |") {
      let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
      let sent = try XCTUnwrap(Double(cells.last ?? ""), String(row))
      if cells[2] == "1" { XCTAssertEqual(sent, 0, String(row)) } else { XCTAssertGreaterThan(sent, 0, String(row)) }
    }
    for plot in ["strong.png", "weak.png"] {
      let data = try Data(contentsOf: out.appendingPathComponent(plot))
      XCTAssertEqual(Array(data.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "\(plot) is not a PNG")
    }
  }
}
