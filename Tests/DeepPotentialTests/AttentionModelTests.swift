@testable import DeepPotential
import DeepPotentialEngine
import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// DPA-1 models (`inputs/models/cuag_se_atten*`, trained and evaluated by DeePMD-kit 3.2.0's
/// PyTorch backend: tools/dpa1/make_fixtures.py): every reference configuration against DeePMD-kit,
/// finite differences of forces and virial, and the reader's refusals.
final class AttentionModelTests: XCTestCase {
  static let models = ["cuag_se_atten_v2_l0", "cuag_se_atten_v2_l2", "cuag_se_atten_concat"]

  func testLibraryMatchesDeePMDKit() throws {
    for name in Self.models {
      let model = try AttentionModel.load(path: ModelEditing.modelPath(name))
      let evaluator = AttentionEvaluator(model: model)
      let frames = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
      XCTAssertEqual(frames.count, 7, name)
      var worst: [String: Double] = [:]
      for frame in frames {
        let result = try evaluator.evaluate(positions: frame.positions, types: frame.types(in: model.typeMap),
                                            cell: frame.periodicCell)
        let computed = evaluatedFrame(frame, result)
        assertMatches(computed, reference: frame, label: frame.label(model: name))
        for (key, value) in largestRelativeDeviations(computed, reference: frame) { worst[key] = max(worst[key] ?? 0, value) }
        // dense_over_sel is the only configuration with more neighbours than sel (78 against 60).
        let overSel = frame.info["config"] == .string("dense_over_sel")
        XCTAssertEqual(result.overflowAtoms, overSel ? frame.atomCount : 0, "\(name) overflow count")
      }
      print("\(name) vs DeePMD-kit, largest |difference| / largest |reference| over the frames:",
            worst.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }
  }

  /// Per quantity, the largest |computed − reference| over the frame divided by the largest
  /// |reference| (what the log quotes; the assertions are `assertMatches`'). Quantities that vanish
  /// by symmetry (below 1e-10: forces in the perfect lattice) count as 0 here.
  private func largestRelativeDeviations(_ computed: ExtendedXYZFrame, reference: ExtendedXYZFrame) -> [String: Double] {
    func ratio(_ a: [Double], _ b: [Double]) -> Double {
      let scale = b.map(abs).max()!
      return scale < 1e-10 ? 0 : zip(a, b).map { abs($0 - $1) }.max()! / scale
    }
    var out: [String: Double] = [:]
    if case .double(let e)? = computed.info["energy"], case .double(let r)? = reference.info["energy"] {
      out["energy"] = abs(e - r) / abs(r)
    }
    out["virial"] = ratio(computed.matrix3x3("virial") ?? [], reference.matrix3x3("virial") ?? [])
    for name in ["forces", "energies", "atom_virial"] {
      if case .reals(let a)? = computed.property(named: name)?.values, case .reals(let b)? = reference.property(named: name)?.values {
        out[name] = ratio(a, b)
      }
    }
    return out
  }

  /// Central differences of the model's own energy on a distorted triclinic 4-atom cell (atoms
  /// see their own images), for every model.
  func testForcesAndVirialAreDerivatives() throws {
    for name in Self.models {
      let evaluator = AttentionEvaluator(model: try AttentionModel.load(path: ModelEditing.modelPath(name)))
      let (x, types, cell) = Self.distortedCell()
      try Self.checkDerivatives({ try evaluator.evaluate(positions: $0, types: types, cell: $1) }, x: x, cell: cell,
                                label: name)
    }
  }

  /// An fcc cell of 4 atoms (a₀ 3.8 Å, Cu and Ag alternating) sheared into a triclinic cell,
  /// atoms displaced.
  static func distortedCell() -> (positions: [Double], types: [Int32], cell: [Double]) {
    let a = 3.8
    let cell = [a, 0, 0, 0.31, a * 1.04, 0, -0.27, 0.42, a * 0.97]
    let fractional: [[Double]] = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    let shifts: [[Double]] = [[0.11, -0.07, 0.05], [-0.04, 0.13, -0.09], [0.08, 0.02, -0.12], [-0.1, -0.06, 0.07]]
    var positions: [Double] = []
    for (f, s) in zip(fractional, shifts) {
      for c in 0..<3 { positions.append(f[0] * cell[c] + f[1] * cell[3 + c] + f[2] * cell[6 + c] + s[c]) }
    }
    return (positions, [0, 1, 0, 1], cell)
  }

  /// `evaluate(positions, cell)`: one evaluator's single point (any descriptor's).
  static func checkDerivatives(_ evaluate: (_ positions: [Double], _ cell: [Double]) throws -> SinglePointResult,
                               x: [Double], cell: [Double], label: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
    let result = try evaluate(x, cell)
    func energy(_ x: [Double], _ cell: [Double]) throws -> Double { try evaluate(x, cell).energy }
    let h = 1e-5
    let scale = max(1, result.forces.map(abs).max()!)
    for k in 0..<x.count {
      var plus = x, minus = x
      plus[k] += h
      minus[k] -= h
      let numeric = -(try energy(plus, cell) - energy(minus, cell)) / (2 * h)
      XCTAssertEqual(result.forces[k], numeric, accuracy: 1e-7 * scale, "\(label) force component \(k)",
                     file: file, line: line)
    }
    // W[α][β] = −∂E/∂ε_αβ under r_α → r_α + Σ_β ε_αβ r_β (positions and cell vectors alike).
    let virialScale = max(1, result.virial.map(abs).max()!)
    for alpha in 0..<3 {
      for beta in 0..<3 {
        func strained(_ e: Double) throws -> Double {
          var y = x, c = cell
          for i in 0..<(x.count / 3) { y[3 * i + alpha] += e * x[3 * i + beta] }
          for v in 0..<3 { c[3 * v + alpha] += e * cell[3 * v + beta] }
          return try energy(y, c)
        }
        let numeric = -(try strained(h) - strained(-h)) / (2 * h)
        XCTAssertEqual(result.virial[3 * alpha + beta], numeric, accuracy: 1e-7 * virialScale,
                       "\(label) virial \(alpha)\(beta)", file: file, line: line)
      }
    }
    XCTAssertEqual(result.atomEnergies.reduce(0, +), result.energy, accuracy: 1e-12 * max(1, abs(result.energy)))
    for c in 0..<3 {
      let total = stride(from: c, to: result.forces.count, by: 3).map { result.forces[$0] }.reduce(0, +)
      XCTAssertEqual(total, 0, accuracy: 1e-12 * scale, "\(label) net force", file: file, line: line)
    }
  }
}

/// What the DPA-1 reader reads and what it refuses, by key.
final class AttentionModelLoadingTests: XCTestCase {
  func testReadsTheHyperParameters() throws {
    let model = try AttentionModel.load(path: ModelEditing.modelPath("cuag_se_atten_v2_l2"))
    XCTAssertEqual(model.typeMap, ["Cu", "Ag"])
    XCTAssertEqual(model.cutoff, 5.0)
    XCTAssertEqual(model.selection, 60)
    XCTAssertEqual(model.embeddingWidth, 32)
    XCTAssertEqual(model.axisCount, 4)
    XCTAssertEqual(model.typeEmbeddingWidth, 8)
    XCTAssertEqual(model.descriptorWidth, 32 * 4 + 8)
    XCTAssertEqual(model.attentionLayers.count, 2)
    XCTAssertEqual(model.attentionLayers.map(\.hidden), [16, 16])
    XCTAssertTrue(model.smooth && !model.typeOneSide && model.appendsTypeEmbedding)
    guard case .strip(_, let table) = model.inputMode else { return XCTFail("se_atten_v2 is strip mode") }
    // (ntypes + 1)² type pairs, padding included, M1 wide.
    XCTAssertEqual(table.count, 9 * 32)
    // The padding row of the type embedding is zero.
    XCTAssertEqual(Array(model.typeEmbedding[16..<24]), [Double](repeating: 0, count: 8))

    let concat = try AttentionModel.load(path: ModelEditing.modelPath("cuag_se_atten_concat"))
    guard case .concat(let network) = concat.inputMode else { return XCTFail("se_atten concat mode") }
    XCTAssertEqual(network.inputWidth, 1 + 8)  // [s, T_j]: type_one_side
    XCTAssertFalse(concat.smooth)
    XCTAssertTrue(concat.attentionLayers.allSatisfy { !$0.smooth && !$0.normalizes && !$0.dotProductGate })
  }

  func testUnsupportedFeaturesAreRefusedByKey() throws {
    let d = "model.descriptor"
    let cases: [(String, JSONValue, [String])] = [
      ("\(d).type", .string("se_e3"), ["\(d).type", "descriptor 'se_e3'", "dpa1, se_atten, se_atten_v2"]),
      ("\(d).precision", .string("float32"), ["\(d).precision", "float32", "float64 DPA-1 models only"]),
      ("\(d).@version", .number(4), ["\(d).@version = 4", "accepted: 1...3"]),
      ("\(d).compress", .object(["geo_compress": .bool(false)]), ["\(d).compress.@variables.type_embd_data", "strip table"]),
      ("\(d).lmax", .number(2), ["\(d).lmax", "lmax other than 1"]),
      ("\(d).attn_mask", .bool(true), ["\(d).attn_mask", "attn_mask true"]),
      ("\(d).use_econf_tebd", .bool(true), ["\(d).use_econf_tebd", "electronic configurations"]),
      ("\(d).sel", .array([.number(30), .number(30)]), ["\(d).sel", "one positive neighbour count"]),
      ("\(d).attention_layers.attention_layers.0.attention_layer.num_heads", .number(2),
       ["attention_layers[0].attention_layer.num_heads", "num_heads 2"]),
      ("\(d).attn_layer", .number(3), ["\(d).attn_layer", "disagrees"]),
      ("\(d).tebd_dim", .number(4), ["\(d).tebd_dim", "expected 8"]),
      ("\(d).spin", .object([:]), ["\(d).spin", "spin"]),
      ("model.fitting.numb_fparam", .number(2), ["model.fitting.numb_fparam", "not supported"]),
    ]
    for (key, value, expected) in cases {
      let path = try ModelEditing.copy("cuag_se_atten_v2_l2") { $0[path: key] = value }
      XCTAssertThrowsError(try AttentionModel.load(path: path), key) { error in
        for fragment in [path] + expected {
          XCTAssertTrue("\(error)".contains(fragment), "'\(error)' does not mention '\(fragment)'")
        }
      }
    }
    // se_atten (not v2) in an unknown input mode.
    let path = try ModelEditing.copy("cuag_se_atten_concat") { $0[path: "\(d).tebd_input_mode"] = .string("mix") }
    XCTAssertThrowsError(try AttentionModel.load(path: path)) { error in
      XCTAssertTrue("\(error)".contains("\(d).tebd_input_mode") && "\(error)".contains("concat or strip"), "\(error)")
    }
  }
}

/// Variants of the fixture models made by editing their documents (tools/dpa1/make_variants.py,
/// `variants.json`): exclusions at every level, env_protection, a temperature without
/// normalisation, the non-smooth strip mode and padding rows that are not zero, against DeePMD-kit
/// on two configurations each, and finite differences.
final class AttentionVariantTests: XCTestCase {
  struct Variant {
    let name, base, path: String
  }

  func variants() throws -> [Variant] { try Self.variants(in: "cuag_dpa1_variants") }

  /// The variants of `inputs/models/FOLDER/variants.json`, each a copy of its base model edited.
  static func variants(in name: String) throws -> [Variant] {
    let folder = inputPath("models/\(name)")
    let text = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/variants.json"))
    guard case .object(let table) = try JSONDecoder().decode(JSONValue.self, from: text) else {
      throw DeepPotentialError("variants.json: expected an object")
    }
    return try table.keys.sorted().map { name in
      guard case .object(let entry)? = table[name], case .string(let base)? = entry["model"],
            case .array(let edits)? = entry["edits"] else { throw DeepPotentialError("variants.json: \(name)") }
      let path = try ModelEditing.copy(base) { document in
        for edit in edits {
          guard case .array(let pair) = edit, pair.count == 2, case .string(let key) = pair[0] else { continue }
          document[path: key] = pair[1]
        }
      }
      return Variant(name: name, base: base, path: path)
    }
  }

  func testVariantsMatchDeePMDKit() throws {
    let variants = try variants()
    XCTAssertEqual(variants.count, 7)
    for variant in variants {
      let model = try AttentionModel.load(path: variant.path)
      let evaluator = AttentionEvaluator(model: model)
      let frames = try ExtendedXYZ.read(contentsOf: inputPath("models/cuag_dpa1_variants/\(variant.name).xyz"))
      let base = try ExtendedXYZ.read(contentsOf: inputPath("models/\(variant.base)/fixtures/reference.xyz"))
      XCTAssertEqual(frames.count, 2, variant.name)
      for frame in frames {
        let result = try evaluator.evaluate(positions: frame.positions, types: frame.types(in: model.typeMap),
                                            cell: frame.periodicCell)
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

  /// Two atoms with no neighbour within rcut (every slot padding; the non-smooth attention's
  /// softmax has no key) and a pair, as DeePMD-kit evaluates them: finite, and equal.
  func testIsolatedAtoms() throws {
    for name in AttentionModelTests.models {
      let model = try AttentionModel.load(path: ModelEditing.modelPath(name))
      let frames = try ExtendedXYZ.read(contentsOf: inputPath("models/cuag_dpa1_variants/isolated_\(name).xyz"))
      XCTAssertEqual(frames.count, 1)
      for frame in frames {
        let result = try AttentionEvaluator(model: model).evaluate(
          positions: frame.positions, types: frame.types(in: model.typeMap), cell: nil)
        XCTAssertTrue((result.forces + result.atomEnergies + result.virial).allSatisfy(\.isFinite), name)
        let computed = evaluatedFrame(frame, result)
        assertMatches(computed, reference: frame, label: "\(name) isolated atoms")
      }
    }
  }

  func testVariantDerivatives() throws {
    for variant in try variants() {
      let evaluator = AttentionEvaluator(model: try AttentionModel.load(path: variant.path))
      let (x, types, cell) = AttentionModelTests.distortedCell()
      try AttentionModelTests.checkDerivatives({ try evaluator.evaluate(positions: $0, types: types, cell: $1) },
                                               x: x, cell: cell, label: variant.name)
    }
  }
}

/// DPA-1 models through the se_e2_a entry points (`DeepPotentialModel.load`,
/// `DeepPotentialEvaluator`, `tessera eval`), which `pair_style deepmd` and `tessera eval` use.
final class AttentionThroughDeepPotentialTests: XCTestCase {
  func testEvaluatorRunsDPA1Models() throws {
    for name in AttentionModelTests.models {
      let model = try DeepPotentialModel.load(path: ModelEditing.modelPath(name))
      XCTAssertTrue(model.isAttentionModel)
      XCTAssertEqual(model.selection, [60])
      XCTAssertFalse(model.selectsLike(model), "\(name): DPA-1 selects its own slots, never shared")
      let evaluator = DeepPotentialEvaluator(model: model)
      let frames = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
      XCTAssertEqual(frames.count, 7)
      for frame in frames {
        let result = try evaluator.evaluate(frame, typeMap: model.typeMap)
        let computed = evaluatedFrame(frame, result)
        assertMatches(computed, reference: frame, label: "DeepPotentialEvaluator \(frame.label(model: name))")
      }
    }
    XCTAssertFalse(try DeepPotentialModel.load(path: ModelEditing.modelPath("cu_se_e2_a")).isAttentionModel)
  }

  /// `tessera eval` on the reference configurations, read back with the extended XYZ reader.
  func testEvalMatchesDeePMDKit() throws {
    let directory = try makeScratchDirectory("eval-dpa1")
    for name in AttentionModelTests.models {
      let output = directory.appendingPathComponent("\(name).xyz").path
      let result = try runProcess(tesseraBinary, ["eval", "--model", ModelEditing.modelPath(name),
                                                   inputPath("models/\(name)/fixtures/configs.xyz"), "-o", output])
      XCTAssertEqual(result.status, 0, result.combined)
      XCTAssertTrue(result.error.contains("WARNING:") && result.error.contains("than sel [60]"), result.combined)
      let computed = try ExtendedXYZ.read(contentsOf: output)
      let reference = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
      XCTAssertEqual(computed.count, reference.count)
      for (c, r) in zip(computed, reference) {
        assertMatches(c, reference: r, label: "eval \(name) \(r.info["config"].map { "\($0)" } ?? "?")")
      }
    }
  }
}
