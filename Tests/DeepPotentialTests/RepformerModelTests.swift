import Atoms
@testable import DeepPotential
@testable import DeepPotentialEngine
import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// DPA-2 models (`inputs/models/cuag_dpa2*`, trained and evaluated by DeePMD-kit 3.2.0's PyTorch
/// backend: tools/dpa2/make_fixtures.py): energies, per-atom energies, forces, virial and per-atom
/// virials of every reference configuration against DeePMD-kit, finite differences, the periodic
/// images acting as ghosts whose g1 is forwarded before every repformer layer, and the reader's refusals.
final class RepformerModelTests: XCTestCase {
  static let models = ["cuag_dpa2", "cuag_dpa2_avg", "cuag_dpa2_incr", "cuag_dpa2_h2", "cuag_dpa2_direct"]

  func testLibraryMatchesDeePMDKit() throws {
    for name in Self.models {
      let evaluator = RepformerEvaluator(model: try RepformerModel.load(path: ModelEditing.modelPath(name)))
      let frames = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
      XCTAssertEqual(frames.count, 7, name)
      var worst: [String: Double] = [:]
      for frame in frames {
        let label = frame.label(model: name)
        let result = try evaluator.evaluate(positions: frame.positions, types: frame.types(in: evaluator.model.typeMap),
                                            cell: frame.periodicCell)
        RepflowModelTests.assertMatchesDeePMDKit(energy: result.energy, atomEnergies: result.atomEnergies,
                                                 forces: result.forces, virial: result.virial,
                                                 atomVirials: result.atomVirials, reference: frame, label: label,
                                                 worst: &worst)
        for c in 0..<9 {
          let sum = stride(from: c, to: result.atomVirials.count, by: 9).map { result.atomVirials[$0] }.reduce(0, +)
          XCTAssertEqual(sum, result.virial[c], accuracy: 1e-12 * max(result.virial.map(abs).max()!, 1), "\(label) Σ atom virial \(c)")
        }
        // dense_over_sel is the only configuration with more neighbours than the repinit's sel (78 against 60).
        let overSel = frame.info["config"] == .string("dense_over_sel")
        XCTAssertEqual(result.overflowAtoms, overSel ? frame.atomCount : 0, "\(label) overflow count")
      }
      print("\(name) vs DeePMD-kit, largest |difference| / largest |reference|:",
            worst.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }
  }

  /// Central differences of the model's own energy (step 1e-5 Å, and 1e-6 of strain) against the
  /// backward pass's forces and virial, on the distorted 4-atom cell, for every model.
  func testForcesAndVirialAreDerivatives() throws {
    for name in Self.models {
      let evaluator = RepformerEvaluator(model: try RepformerModel.load(path: ModelEditing.modelPath(name)))
      let (x, types, cell) = AttentionModelTests.distortedCell()
      let result = try evaluator.evaluate(positions: x, types: types, cell: cell)
      func energy(_ x: [Double], _ cell: [Double]) throws -> Double {
        try evaluator.evaluate(positions: x, types: types, cell: cell, forces: false).energy
      }
      let h = 1e-5
      for k in 0..<x.count {
        var plus = x, minus = x
        plus[k] += h
        minus[k] -= h
        let difference = -(try energy(plus, cell) - energy(minus, cell)) / (2 * h)
        XCTAssertEqual(result.forces[k], difference, accuracy: 1e-6, "\(name) force component \(k)")
      }
      let eps = 1e-6
      for p in 0..<3 {
        for q in 0..<3 {
          func strained(_ e: Double) throws -> Double {
            func apply(_ v: [Double]) -> [Double] {
              var out = v
              for row in 0..<(v.count / 3) { out[3 * row + q] += e * v[3 * row + p] }
              return out
            }
            return try energy(apply(x), apply(cell))
          }
          let difference = -(try strained(eps) - strained(-eps)) / (2 * eps)
          XCTAssertEqual(result.virial[3 * p + q], difference, accuracy: 1e-5, "\(name) virial \(p)\(q)")
        }
      }
    }
  }

  /// Without forwarding, the images keep stale (zero) g1: a periodic box's energy must then differ.
  func testGhostFeaturesAreForwardedBeforeEveryLayer() throws {
    let evaluator = RepformerEvaluator(model: try RepformerModel.load(path: ModelEditing.modelPath("cuag_dpa2")))
    let (x, types, cell) = AttentionModelTests.distortedCell()
    let forwarded = try evaluator.evaluate(positions: x, types: types, cell: cell, forces: false)
    let stale = try evaluateSinglePoint(positions: x, types: types, cell: cell, cutoff: evaluator.model.listCutoff,
                                        typeMap: evaluator.model.typeMap) {
      evaluator.compute(positions: $0.positions, types: $0.types, ownedCount: $0.ownedCount, totalCount: $0.totalCount,
                        neighborOffsets: $0.offsets, neighbors: $0.neighbors, ghosts: NoGhostRows(),
                        atomEnergies: $0.atomEnergies)
    }
    XCTAssertGreaterThan(abs(stale.energy - forwarded.energy), 1e-6 * abs(forwarded.energy))
  }

  func testReaderRefusesWhatItDoesNotEvaluate() throws {
    let refusals: [(String, JSONValue, String)] = [
      ("model.descriptor.repformer_args.update_h2", .bool(true),
       "repformer_layers[0].update_h2: disagrees with model.descriptor.repformer_args.update_h2"),
      ("model.descriptor.use_tebd_bias", .bool(true), "use_tebd_bias true"),
      ("model.descriptor.repformer_args.update_style", .string("res_other"), "update_style 'res_other'"),
      ("model.descriptor.smooth", .bool(false), "smooth false"),
      ("model.descriptor.add_tebd_to_repinit_out", .bool(true), "add_tebd_to_repinit_out true"),
      ("model.descriptor.env_protection", .number(0.5), "env_protection other than 0"),
      ("model.descriptor.exclude_types", .array([.array([.number(0), .number(1)])]), "descriptor exclude_types"),
      ("model.descriptor.@version", .number(4), "repinit_variable.compress: expected compress block with @version 4"),
      ("model.descriptor.repformer_args.nlayers", .number(3), "2 layers stored, nlayers is 3"),
      ("model.descriptor.repformer_args.g2_dim", .number(4), "g2_embd: 1 → 8, expected 1 → 4"),
      ("model.descriptor.repformers_variable.repformer_layers.1.attn2_has_gate", .bool(false),
       "repformer_layers[1].attn2_has_gate: disagrees with model.descriptor.repformer_args.attn2_has_gate"),
    ]
    for (key, value, message) in refusals {
      let path = try ModelEditing.copy("cuag_dpa2") { $0[path: key] = value }
      XCTAssertThrowsError(try RepformerModel.load(path: path), key) { error in
        XCTAssertTrue("\(error)".contains(message), "\(key): \(error)")
        XCTAssertTrue("\(error)".contains(path), "\(key): \(error)")
      }
    }
  }
}
