import Foundation
import TesseraTestSupport
import XCTest

/// The same deck on 1, 2, 3, 4 and 8 ranks (oversubscribed) prints the same thermo to 1e-10.
final class RankConsistencyTests: XCTestCase {
  /// An LJ liquid deck; `region` sets the box shape, `skin` and `every` the rebuild schedule.
  func deck(region: String, temperature: Double = 2.0, steps: Int = 200) -> String {
    fccCrystalDeck(region: region, velocity: "\(temperature) 4928459 dist gaussian") + "\n" + """
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    neighbor 0.3 bin
    neigh_modify every 1 delay 0 check yes
    fix 1 all nve
    thermo_style custom step temp pe ke etotal press pxx pyy pzz pxy pxz pyz atoms
    thermo_modify format float %.16g
    thermo 20
    run \(steps)
    """
  }

  func assertSameThermo(_ deckText: String, ranks: [Int], file: StaticString = #filePath, line: UInt = #line) throws {
    let dir = try makeScratchDirectory("ranks")
    let reference = try runDeck(deckText, named: "in.deck", ranks: 1, in: dir)
    XCTAssertEqual(reference.status, 0, reference.combined, file: file, line: line)
    let expected = thermoRows(reference.output)
    XCTAssertGreaterThan(expected.count, 5, reference.output, file: file, line: line)
    for n in ranks {
      let result = try runTessera(ranks: n, ["run", "in.deck", "--log", "none"], in: dir)
      XCTAssertEqual(result.status, 0, result.combined, file: file, line: line)
      assertThermoTablesAgree(expected, thermoRows(result.output), tolerance: 1e-10, "\(n) ranks", file: file, line: line)
    }
  }

  func testOrthogonalBox() throws {
    try assertSameThermo(deck(region: "region box block 0 4 0 4 0 4"), ranks: [2, 3, 4, 8])
  }

  func testTriclinicBox() throws {
    // Tilts of whole lattice translations keep the fcc lattice commensurate with the tilted box.
    try assertSameThermo(deck(region: "region box prism 0 4 0 4 0 4 1 0.5 0.5"), ranks: [2, 3, 4, 8])
  }

  func testBoxSmallerThanCutoffSeesSeveralImages() throws {
    // 1.68 σ across in z against a ghost cutoff of 2.8 σ: every atom sees several images of itself,
    // and on 8 ranks ghosts come from several bricks away.
    try assertSameThermo(deck(region: "region box block 0 2 0 2 0 1", temperature: 1.0), ranks: [2, 4, 8])
  }
}
