@testable import DeepPotential
import DeepPotentialEngine
import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// se_e2_r, se_e3 and se_e3_tebd models (`inputs/models/cuag_se_e2_r`, `cuag_se_e3`,
/// `cuag_se_e3_tebd_concat`, `cuag_se_e3_tebd_strip`, trained and evaluated by
/// DeePMD-kit 3.2.0's PyTorch backend: tools/dpa1/make_se_fixtures.py): every reference
/// configuration against DeePMD-kit through the library and `tessera eval`, finite differences of
/// forces and virial, and the reader's refusals.
final class ScalarDescriptorTests: XCTestCase {
  static let models = ["cuag_se_e2_r", "cuag_se_e3", "cuag_se_e3_tebd_concat", "cuag_se_e3_tebd_strip"]

  func testLibraryMatchesDeePMDKit() throws {
    for name in Self.models {
      let model = try DeepPotentialModel.load(path: ModelEditing.modelPath(name))
      XCTAssertEqual(model.otherDescriptorName, name == "cuag_se_e2_r" ? "se_e2_r" : name.contains("tebd") ? "se_e3_tebd" : "se_e3")
      try Self.assertFixturesMatchDeePMDKit(model: model, name: name)
    }
  }

  /// Every reference configuration of fixture model `name` through `DeepPotentialEvaluator`.
  static func assertFixturesMatchDeePMDKit(model: DeepPotentialModel, name: String,
                                           file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertFalse(model.selectsLike(model), "\(name) selects its own slots, never shared", file: file, line: line)
    let evaluator = DeepPotentialEvaluator(model: model)
    let frames = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
    XCTAssertEqual(frames.count, 7, name, file: file, line: line)
    for frame in frames {
      let result = try evaluator.evaluate(frame, typeMap: model.typeMap)
      let computed = evaluatedFrame(frame, result)
      assertMatches(computed, reference: frame, label: frame.label(model: name), file: file, line: line)
      // dense_over_sel is the only configuration where atoms have more than Σsel neighbours
      // (every one of its atoms does: make_se_fixtures.py checks it).
      let overSel = frame.info["config"] == .string("dense_over_sel")
      XCTAssertEqual(result.overflowAtoms, overSel ? frame.atomCount : 0, "\(name) overflow count", file: file, line: line)
    }
  }

  /// Central differences of the model's own energy on AttentionModelTests' distorted triclinic
  /// 4-atom cell (atoms see their own images).
  func testForcesAndVirialAreDerivatives() throws {
    for name in Self.models {
      let evaluator = DeepPotentialEvaluator(model: try DeepPotentialModel.load(path: ModelEditing.modelPath(name)))
      let (x, types, cell) = AttentionModelTests.distortedCell()
      try AttentionModelTests.checkDerivatives({ try evaluator.evaluate(positions: $0, types: types, cell: $1) },
                                               x: x, cell: cell, label: name)
    }
  }

  /// Descriptor exclusions (rows zeroed), model pair and atom exclusions, env_protection and
  /// padding rows that are not constant zero (davg pointed at the dstd dataset) change the
  /// energy and stay exact derivatives: along one direction of all coordinates at once and one
  /// strain, −dE/dh against F·v and W:ε (four evaluations each, where full finite differences
  /// take 42). No DeePMD-kit references: the trained options are checked against it above.
  func testOptionsKeepForcesExact() throws {
    let d = "model.descriptor"
    for name in Self.models {
      let base = try DeepPotentialModel.load(path: ModelEditing.modelPath(name))
      let (x, types, cell) = AttentionModelTests.distortedCell()
      let reference = try DeepPotentialEvaluator(model: base).evaluate(positions: x, types: types, cell: cell).energy
      let dstd = try ModelFile(path: ModelEditing.modelPath(name)).rootNode()["model"]["descriptor"]["@variables"]["dstd"]
        .string()
      let edits: [(String, JSONValue)] = [
        ("\(d).exclude_types", .array([.array([.number(0), .number(1)])])),
        ("model.pair_exclude_types", .array([.array([.number(1), .number(1)])])),
        ("model.atom_exclude_types", .array([.number(1)])),
        ("\(d).env_protection", .number(0.4)),
        ("\(d).@variables.davg", .string(dstd)),
      ]
      for (key, value) in edits {
        let path = try ModelEditing.copy(name) { $0[path: key] = value }
        let evaluator = DeepPotentialEvaluator(model: try DeepPotentialModel.load(path: path))
        let energy = try evaluator.evaluate(positions: x, types: types, cell: cell).energy
        XCTAssertGreaterThan(abs(energy - reference), 1e-6, "\(name) \(key): the edit changed nothing")
        try Self.checkDirectionalDerivatives({ try evaluator.evaluate(positions: $0, types: types, cell: $1) },
                                             x: x, cell: cell, label: "\(name) \(key)")
      }
    }
  }

  /// −dE/dh along a fixed direction v of every coordinate against Σ F·v, and along a fixed strain ε
  /// (positions and cell alike) against Σ W_αβ ε_αβ, by central differences.
  static func checkDirectionalDerivatives(_ evaluate: (_ positions: [Double], _ cell: [Double]) throws -> SinglePointResult,
                                          x: [Double], cell: [Double], label: String,
                                          file: StaticString = #filePath, line: UInt = #line) throws {
    let result = try evaluate(x, cell)
    let v = x.indices.map { sin(Double($0) * 1.7 + 0.3) }
    let strain = [0.3, -0.2, 0.5, 0.1, -0.4, 0.25, -0.15, 0.35, 0.2]
    let h = 1e-5
    func moved(_ e: Double) throws -> Double { try evaluate(zip(x, v).map { $0 + e * $1 }, cell).energy }
    let slope = -(try moved(h) - moved(-h)) / (2 * h)
    let expected = zip(result.forces, v).map { $0 * $1 }.reduce(0, +)
    XCTAssertEqual(slope, expected, accuracy: 1e-7 * max(1, abs(expected)), "\(label) F·v", file: file, line: line)
    func strained(_ e: Double) throws -> Double {
      var y = x, c = cell
      for alpha in 0..<3 {
        for beta in 0..<3 {
          for i in 0..<(x.count / 3) { y[3 * i + alpha] += e * strain[3 * alpha + beta] * x[3 * i + beta] }
          for r in 0..<3 { c[3 * r + alpha] += e * strain[3 * alpha + beta] * cell[3 * r + beta] }
        }
      }
      return try evaluate(y, c).energy
    }
    let work = -(try strained(h) - strained(-h)) / (2 * h)
    let virial = zip(result.virial, strain).map { $0 * $1 }.reduce(0, +)
    XCTAssertEqual(work, virial, accuracy: 1e-7 * max(1, abs(virial)), "\(label) W:ε", file: file, line: line)
  }

  func testEvalMatchesDeePMDKit() throws {
    for name in Self.models { try Self.assertEvalMatchesDeePMDKit(name) }
  }

  /// `tessera eval` on fixture model `name`'s configurations, read back with the extended XYZ reader.
  static func assertEvalMatchesDeePMDKit(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let output = try makeScratchDirectory("eval-\(name)").appendingPathComponent("\(name).xyz").path
    let result = try runProcess(tesseraBinary, ["eval", "--model", ModelEditing.modelPath(name),
                                                 inputPath("models/\(name)/fixtures/configs.xyz"), "-o", output])
    XCTAssertEqual(result.status, 0, result.combined, file: file, line: line)
    XCTAssertTrue(result.error.contains("WARNING:") && result.error.contains("than sel ["), result.combined,
                  file: file, line: line)
    let computed = try ExtendedXYZ.read(contentsOf: output)
    let reference = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
    XCTAssertEqual(computed.count, reference.count, file: file, line: line)
    for (c, r) in zip(computed, reference) {
      assertMatches(c, reference: r, label: "eval \(name) \(r.info["config"].map { "\($0)" } ?? "?")", file: file, line: line)
    }
  }

  func testReadsTheHyperParameters() throws {
    let radial = try ScalarDescriptorModel.load(path: ModelEditing.modelPath("cuag_se_e2_r"))
    XCTAssertEqual(radial.kind, .radial)
    XCTAssertEqual(radial.cutoff, 5.0)
    XCTAssertEqual(radial.embeddingWidth, 32)
    XCTAssertEqual(radial.embeddings.count, 2)
    XCTAssertEqual(radial.average.count, 2 * radial.slotCount)
    let threeBody = try ScalarDescriptorModel.load(path: ModelEditing.modelPath("cuag_se_e3"))
    XCTAssertEqual(threeBody.kind, .threeBody)
    XCTAssertEqual(threeBody.cutoff, 4.0)
    XCTAssertEqual(threeBody.embeddingWidth, 16)
    // Networks of (0, 0), (0, 1) and (1, 1); (1, 0) is never evaluated.
    XCTAssertEqual(threeBody.embeddings.map { $0 != nil }, [true, false, true, true])
    XCTAssertEqual(threeBody.average.count, 2 * threeBody.slotCount * 4)
    for mode in ["concat", "strip"] {
      let typed = try ScalarDescriptorModel.load(path: ModelEditing.modelPath("cuag_se_e3_tebd_\(mode)"))
      XCTAssertEqual(typed.kind, .typeEmbeddedThreeBody)
      XCTAssertTrue(typed.mixedTypes && typed.smooth && typed.appendsTypeEmbedding)
      XCTAssertEqual(typed.selection, [20])
      XCTAssertEqual(typed.descriptorWidth, 16 + 8)
      // The type embedding of both types and the zero padding row.
      XCTAssertEqual(typed.typeEmbedding.count, 3 * 8)
      XCTAssertEqual(Array(typed.typeEmbedding[16..<24]), [Double](repeating: 0, count: 8))
      XCTAssertEqual(typed.embeddings[0]!.inputWidth, mode == "concat" ? 1 + 2 * 8 : 1)
      // Strip: every (type, type) pair with padding, 16 wide.
      XCTAssertEqual(typed.typePairTable?.count, mode == "strip" ? 9 * 16 : nil)
    }
  }

  func testUnsupportedFeaturesAreRefusedByKey() throws {
    let d = "model.descriptor"
    let cases: [(String, String, JSONValue, [String])] = [
      ("cuag_se_e2_r", "\(d).precision", .string("float32"), ["\(d).precision", "float32", "float64 se_r models only"]),
      ("cuag_se_e2_r", "\(d).type_one_side", .bool(false), ["\(d).type_one_side", "type_one_side false"]),
      ("cuag_se_e2_r", "\(d).@version", .number(4), ["\(d).@version = 4", "accepted: 1...2"]),
      ("cuag_se_e2_r", "\(d).compress", .object([:]), ["\(d).compress", "compressed se_r"]),
      ("cuag_se_e2_r", "\(d).sel", .array([.number(30)]), ["\(d).sel", "expected 2 non-negative counts"]),
      ("cuag_se_e3", "\(d).spin", .object([:]), ["\(d).spin", "spin"]),
      ("cuag_se_e3", "\(d).env_mat.use_exp_switch", .bool(true), ["\(d).env_mat.use_exp_switch", "exponential switch"]),
      ("cuag_se_e3", "\(d).embeddings.networks.1", .null, []),
      ("cuag_se_e3", "\(d).embeddings.networks.2", .null, ["\(d).embeddings.networks[2]", "missing network", "(0, 1)"]),
      ("cuag_se_e3", "model.fitting.numb_fparam", .number(2), ["model.fitting.numb_fparam", "not supported"]),
      ("cuag_se_e3_tebd_strip", "\(d).tebd_input_mode", .string("mix"), ["\(d).tebd_input_mode", "concat or strip"]),
      ("cuag_se_e3_tebd_strip", "\(d).use_tebd_bias", .bool(true), ["\(d).use_tebd_bias", "use_tebd_bias true"]),
      ("cuag_se_e3_tebd_strip", "\(d).sel", .array([.number(10), .number(10)]), ["\(d).sel", "one positive neighbour count"]),
      ("cuag_se_e3_tebd_strip", "\(d).@version", .number(2), ["\(d).@version = 2", "accepted: 1...1"]),
      ("cuag_se_e3_tebd_concat", "\(d).tebd_dim", .number(4), ["\(d).tebd_dim", "expected 8"]),
      ("cuag_se_e3_tebd_concat", "\(d).precision", .string("float32"), ["\(d).precision", "float64 se_e3_tebd models only"]),
    ]
    for (name, key, value, expected) in cases {
      let path = try ModelEditing.copy(name) { $0[path: key] = value }
      if expected.isEmpty {
        // The (1, 0) network is never used: clearing it changes nothing.
        XCTAssertNoThrow(try DeepPotentialModel.load(path: path), key)
        continue
      }
      XCTAssertThrowsError(try DeepPotentialModel.load(path: path), key) { error in
        for fragment in [path] + expected {
          XCTAssertTrue("\(error)".contains(fragment), "'\(error)' does not mention '\(fragment)'")
        }
      }
    }
    let model = try DeepPotentialModel.load(path: ModelEditing.modelPath("cuag_se_e3"))
    XCTAssertThrowsError(try model.tabulated(TabulationSettings(minNeighborDistance: 2))) { error in
      XCTAssertTrue("\(error)".contains("cuag_se_e3.dp") && "\(error)".contains("se_e3"), "\(error)")
    }
  }
}

/// se_e2_r, se_e3 and se_e3_tebd models in decks: thermo independent of the rank count (also 4 atoms whose
/// ghosts are several images deep: on 4 ranks the bricks are thinner than the cut-off) and energy
/// conservation.
final class ScalarDescriptorRunTests: XCTestCase, CuAgDeckRunning {
  func testThermoIsIndependentOfRankCount() throws {
    for name in ScalarDescriptorTests.models {
      try assertRankIndependent(model: name, cells: 3, steps: 30, ranks: [2, 4])
      // 4 atoms (one cell, all Cu) 4.3 Å apart: 18 neighbours within 5 Å, below sel. (At 3.85 Å, 42
      // equidistant shells overflow sel 36, and which of equal neighbours are kept follows the
      // ghosts' order, which the rank count changes, in DeePMD-kit's rule as here.)
      try assertRankIndependent(model: name, cells: 1, latticeConstant: 4.3, steps: 20, ranks: [4])
    }
  }

  func testFloat32IsRefused() throws {
    let text = deck(model: "cuag_se_e3", steps: 0)
      .replacingOccurrences(of: "cuag_se_e3.dp\n", with: "cuag_se_e3.dp precision float32\n")
    XCTAssertTrue(text.contains("precision float32"))
    assertRunRefused(try run(text, cells: 2, ranks: 1), saying: "precision float32 is not supported for se_e3 models yet",
                     "float32 se_e3")
  }

  /// NVE at 300 K, 1 fs, 32 atoms, 1,000 steps: the total energy stays within 2e-5 eV/atom of its start.
  func testNVEConservesEnergy() throws {
    for name in ScalarDescriptorTests.models { try assertConservesEnergy(model: name, bound: 2e-5) }
  }
}

/// Variants of the se_e2_r, se_e3, se_e3_tebd and hybrid fixture models made by editing their
/// documents (tools/dpa1/make_se_variants.py, `cuag_se_variants/variants.json`): exclusions at every
/// level (a hybrid's pair exclusion before its mixed list is split by type), env_protection, the
/// non-smooth strip mode and padding rows that are not zero (which read atom 0's type), against
/// DeePMD-kit on the 4-atom box and the cluster.
final class ScalarDescriptorVariantTests: XCTestCase {
  func testVariantsMatchDeePMDKit() throws {
    let variants = try AttentionVariantTests.variants(in: "cuag_se_variants")
    XCTAssertEqual(variants.count, 6)
    for variant in variants {
      let model = try DeepPotentialModel.load(path: variant.path)
      let evaluator = DeepPotentialEvaluator(model: model)
      let frames = try ExtendedXYZ.read(contentsOf: inputPath("models/cuag_se_variants/\(variant.name).xyz"))
      let base = try ExtendedXYZ.read(contentsOf: inputPath("models/\(variant.base)/fixtures/reference.xyz"))
      XCTAssertEqual(frames.count, 2, variant.name)
      for frame in frames {
        let result = try evaluator.evaluate(frame, typeMap: model.typeMap)
        let computed = evaluatedFrame(frame, result)
        assertMatches(computed, reference: frame, label: "\(variant.name) \(frame.info["config"].map { "\($0)" } ?? "?")")
        // The edit changed DeePMD-kit's result: the variant is not the base model in disguise.
        let original = base.first { $0.info["config"] == frame.info["config"] }
        guard case .double(let e)? = frame.info["energy"], case .double(let e0)? = original?.info["energy"] else {
          return XCTFail("\(variant.name): energies missing")
        }
        XCTAssertGreaterThan(abs(e - e0), 1e-6, "\(variant.name): the variant's energy equals the base model's")
      }
    }
  }
}
