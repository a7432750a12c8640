@testable import DeepPotential
import DeepPotentialEngine
import Foundation
import TesseraTestSupport
import XCTest

/// Hybrid models (`inputs/models/cuag_hybrid_a_atten`: se_e2_a 5 Å + se_atten_v2 4 Å, a mixed-type
/// list; `cuag_hybrid_r_e3`: se_e2_r 5 Å + se_e3 4 Å, a sectioned one; trained and evaluated by
/// DeePMD-kit 3.2.0: tools/dpa1/make_se_fixtures.py) against DeePMD-kit through the library and
/// `tessera eval`, finite differences, and the reader's refusals.
final class HybridModelTests: XCTestCase {
  static let models = ["cuag_hybrid_a_atten", "cuag_hybrid_r_e3"]

  func testLibraryMatchesDeePMDKit() throws {
    for name in Self.models {
      let model = try DeepPotentialModel.load(path: ModelEditing.modelPath(name))
      XCTAssertEqual(model.otherDescriptorName, "hybrid")
      try ScalarDescriptorTests.assertFixturesMatchDeePMDKit(model: model, name: name)
    }
  }

  func testEvalMatchesDeePMDKit() throws {
    for name in Self.models { try ScalarDescriptorTests.assertEvalMatchesDeePMDKit(name) }
  }

  func testForcesAndVirialAreDerivatives() throws {
    for name in Self.models {
      let evaluator = DeepPotentialEvaluator(model: try DeepPotentialModel.load(path: ModelEditing.modelPath(name)))
      let (x, types, cell) = AttentionModelTests.distortedCell()
      try AttentionModelTests.checkDerivatives({ try evaluator.evaluate(positions: $0, types: types, cell: $1) },
                                               x: x, cell: cell, label: name)
    }
  }

  /// The one selection covers every part: mixed with the largest Σsel when a part is DPA-1, per
  /// type the largest sel otherwise; r_c is the largest part's.
  func testReadsTheParts() throws {
    let mixed = try HybridModel.load(path: ModelEditing.modelPath("cuag_hybrid_a_atten"))
    XCTAssertTrue(mixed.mixedTypes)
    XCTAssertEqual(mixed.cutoff, 5.0)
    XCTAssertEqual(mixed.parts.map(\.cutoff), [5.0, 4.0])
    XCTAssertEqual(mixed.selection, [mixed.parts[0].selection.reduce(0, +)])
    XCTAssertEqual(mixed.descriptorWidth, 16 * 4 + (16 * 4 + 8))
    let sectioned = try HybridModel.load(path: ModelEditing.modelPath("cuag_hybrid_r_e3"))
    XCTAssertFalse(sectioned.mixedTypes)
    XCTAssertEqual(sectioned.selection, sectioned.parts[0].selection)
    XCTAssertEqual(sectioned.descriptorWidth, 32 + 16)
  }

  func testUnsupportedPartsAreRefusedByKey() throws {
    let d = "model.descriptor"
    let cases: [(String, JSONValue, [String])] = [
      ("\(d).list.1.type", .string("dpa2"), ["\(d).list[1].type", "descriptor 'dpa2' inside a hybrid"]),
      ("\(d).list.0.compress", .object([:]), ["\(d).list[0].compress", "compressed part"]),
      ("\(d).list.1.attention_layers.attention_layers.0.attention_layer.smooth", .bool(false),
       ["\(d).list[1]", "non-smooth DPA-1 part", "4.0 < 5.0"]),
      ("\(d).@version", .number(2), ["\(d).@version = 2", "accepted: 1...1"]),
      ("\(d).list", .array([]), ["\(d).list", "at least one descriptor"]),
    ]
    for (key, value, expected) in cases {
      let path = try ModelEditing.copy("cuag_hybrid_a_atten") { $0[path: key] = value }
      XCTAssertThrowsError(try DeepPotentialModel.load(path: path), key) { error in
        for fragment in [path] + expected {
          XCTAssertTrue("\(error)".contains(fragment), "'\(error)' does not mention '\(fragment)'")
        }
      }
    }
  }
}

/// Hybrid models in decks: thermo independent of the rank count (also 4 atoms whose ghosts are
/// several images deep) and energy conservation.
final class HybridRunTests: XCTestCase, CuAgDeckRunning {
  func testThermoIsIndependentOfRankCount() throws {
    for name in HybridModelTests.models {
      try assertRankIndependent(model: name, cells: 3, steps: 30, ranks: [2, 4])
      // 4 atoms (one cell, all Cu) 4.3 Å apart: 18 neighbours within 5 Å, below sel. (At 3.85 Å, 42
      // equidistant shells overflow sel 36, and which of equal neighbours are kept follows the
      // ghosts' order, which the rank count changes, in DeePMD-kit's rule as here.)
      try assertRankIndependent(model: name, cells: 1, latticeConstant: 4.3, steps: 20, ranks: [4])
    }
  }

  /// NVE at 300 K, 1 fs, 32 atoms, 1,000 steps: the total energy stays within 2e-5 eV/atom of its start.
  func testNVEConservesEnergy() throws {
    for name in HybridModelTests.models { try assertConservesEnergy(model: name, bound: 2e-5) }
  }
}
