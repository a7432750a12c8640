import Foundation
import TesseraTestSupport
import XCTest

/// A DPA-3 model in decks (`pair_style deepmd cuag_dpa3.dp`, run through `RepflowForce`): the node
/// features cross ranks through the halo after every layer, so thermo must not depend on the rank
/// count, also where ghosts are several images deep; and the options the DPA-3 path lacks are refused.
final class RepflowRunTests: XCTestCase {
  /// 32 atoms in a 7.7 Å box against a 6 Å ghost cut-off (ghosts reach past the neighbouring
  /// images); 3 repflow layers make every atom depend on atoms three cut-offs away.
  func testThermoIsIndependentOfRankCount() throws {
    try assertRankIndependent(model: "cuag_dpa3", cells: 2, steps: 20, ranks: [2, 4])
  }

  /// 4 atoms in a 3.85 Å cube: every neighbour is an image, and on 4 ranks the bricks are thinner
  /// than the cut-off.
  func testTinyPeriodicBoxWithGhostsSeveralImagesDeep() throws {
    try assertRankIndependent(model: "cuag_dpa3", cells: 1, steps: 20, ranks: [2, 4])
  }

  func testUnsupportedOptionsAreRefused() throws {
    let model = inputPath("models/cuag_dpa3/cuag_dpa3.dp")
    for (suffix, message) in [(" precision float32", "keyword 'precision' of pair_style deepmd is not supported for DPA-3 models yet"),
                              (" \(model)", "deviation ensembles (several model files) are not supported for DPA-3 yet")] {
      let text = deck(model: "cuag_dpa3", steps: 0).replacingOccurrences(of: "cuag_dpa3.dp\n", with: "cuag_dpa3.dp\(suffix)\n")
      XCTAssertTrue(text.contains("cuag_dpa3.dp\(suffix)\n"))
      assertRunRefused(try run(text, cells: 1, ranks: 1), saying: message, suffix)
    }
  }
}
