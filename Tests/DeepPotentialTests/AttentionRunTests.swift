import Foundation
import TesseraTestSupport
import XCTest

/// DPA-1 models in decks (`pair_style deepmd MODEL.dp`, run through `DeepPotentialEvaluator`):
/// thermo independent of the rank count, also in a box where ghosts are several images deep, and
/// energy conservation.
final class AttentionRunTests: XCTestCase, CuAgDeckRunning {
  /// DPA-1 runs in float64 only: `precision float32` is refused by name instead of silently running float64.
  func testFloat32IsRefused() throws {
    let text = deck(model: "cuag_se_atten_v2_l2", steps: 0)
      .replacingOccurrences(of: "cuag_se_atten_v2_l2.dp\n", with: "cuag_se_atten_v2_l2.dp precision float32\n")
    XCTAssertTrue(text.contains("precision float32"))
    let result = try run(text, cells: 2, ranks: 1)
    assertRunRefused(result, saying: "precision float32 is not supported for attention (DPA-1) models yet", "float32 DPA-1")
  }

  func testThermoIsIndependentOfRankCount() throws {
    try assertRankIndependent(model: "cuag_se_atten_v2_l2", cells: 3, steps: 30, ranks: [2, 4])
    try assertRankIndependent(model: "cuag_se_atten_concat", cells: 3, steps: 30, ranks: [2])
  }

  /// 4 atoms in a 3.85 Å cube against a 6 Å ghost cut-off: every neighbour is an image, and on 4
  /// and 8 ranks the bricks are thinner than the cut-off.
  func testTinyPeriodicBoxWithGhostsSeveralImagesDeep() throws {
    try assertRankIndependent(model: "cuag_se_atten_v2_l2", cells: 1, steps: 30, ranks: [2, 4, 8])
  }

  /// NVE at 300 K, 1 fs: over 1,000 steps the total energy of 32 atoms stays within 2e-5 eV/atom of
  /// its start (measured: 3.7e-6); a non-smooth energy or a wrong gradient breaks this.
  func testNVEConservesEnergy() throws {
    try assertConservesEnergy(model: "cuag_se_atten_v2_l2", bound: 2e-5)
  }
}
