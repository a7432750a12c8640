import Atoms
@testable import DeepPotential
@testable import DeepPotentialEngine
import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// DPA-3 models (`inputs/models/cuag_dpa3*`, trained and evaluated by DeePMD-kit 3.2.0's PyTorch
/// backend: tools/dpa3/make_fixtures.py): energies, per-atom energies, forces and virial of every
/// reference configuration against DeePMD-kit (per-atom virials too), finite differences, the periodic images acting as
/// ghosts whose node features are forwarded before every layer, and the reader's refusals.
final class RepflowModelTests: XCTestCase {
  static let models = ["cuag_dpa3", "cuag_dpa3_avg", "cuag_dpa3_incr", "cuag_dpa3_compress", "cuag_dpa3_split",
                       "cuag_dpa3_dynamic", "cuagau_dpa3"]

  func testLibraryMatchesDeePMDKit() throws {
    for name in Self.models {
      let evaluator = RepflowEvaluator(model: try RepflowModel.load(path: ModelEditing.modelPath(name)))
      let frames = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
      XCTAssertEqual(frames.count, 7, name)
      var worst: [String: Double] = [:]
      for frame in frames {
        let label = frame.label(model: name)
        let result = try evaluator.evaluate(positions: frame.positions, types: frame.types(in: evaluator.model.typeMap),
                                            cell: frame.periodicCell)
        Self.assertMatchesDeePMDKit(energy: result.energy, atomEnergies: result.atomEnergies, forces: result.forces,
                                    virial: result.virial, atomVirials: result.atomVirials, reference: frame,
                                    label: label, worst: &worst)
        // The per-atom virials partition the global one (also where the reference's own sums drift).
        for c in 0..<9 {
          let sum = stride(from: c, to: result.atomVirials.count, by: 9).map { result.atomVirials[$0] }.reduce(0, +)
          XCTAssertEqual(sum, result.virial[c], accuracy: 1e-12 * max(result.virial.map(abs).max()!, 1), "\(label) Σ atom virial \(c)")
        }
        // dense_over_sel is the only configuration with more neighbours than e_sel (78 against 60).
        let overSel = frame.info["config"] == .string("dense_over_sel")
        XCTAssertEqual(result.overflowAtoms, overSel ? frame.atomCount : 0, "\(label) overflow count")
      }
      print("\(name) vs DeePMD-kit, largest |difference| / largest |reference|:",
            worst.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }
  }

  /// Energy to 1e-10 relative; per-atom energies, forces, virial and per-atom virials to 1e-10 of
  /// the largest reference value (forces vanish by symmetry in the perfect lattice). `worst` collects the
  /// largest relative differences per quantity.
  static func assertMatchesDeePMDKit(energy computedEnergy: Double, atomEnergies: [Double], forces: [Double],
                                     virial: [Double], atomVirials: [Double], reference frame: ExtendedXYZFrame,
                                     label: String,
                                     worst: inout [String: Double], file: StaticString = #filePath, line: UInt = #line) {
    guard case .double(let energy)? = frame.info["energy"],
          case .reals(let referenceEnergies)? = frame.property(named: "energies")?.values,
          case .reals(let referenceForces)? = frame.property(named: "forces")?.values,
          case .reals(let referenceAtomVirials)? = frame.property(named: "atom_virial")?.values,
          let referenceVirial = frame.matrix3x3("virial") else {
      return XCTFail("\(label): reference values missing", file: file, line: line)
    }
    XCTAssertEqual(referenceEnergies.count, frame.atomCount, label, file: file, line: line)
    XCTAssertEqual(referenceForces.count, 3 * frame.atomCount, label, file: file, line: line)
    XCTAssertEqual(referenceVirial.count, 9, label, file: file, line: line)
    XCTAssertEqual(referenceAtomVirials.count, 9 * frame.atomCount, label, file: file, line: line)
    XCTAssertEqual(computedEnergy, energy, accuracy: 1e-10 * abs(energy), label, file: file, line: line)
    for (key, computed, reference) in [("energies", atomEnergies, referenceEnergies), ("forces", forces, referenceForces),
                                       ("virial", virial, referenceVirial),
                                       ("atom_virial", atomVirials, referenceAtomVirials)] {
      XCTAssertEqual(computed.count, reference.count, "\(label): \(key)", file: file, line: line)
      let scale = max(reference.map(abs).max()!, 1e-3)
      for (k, (a, b)) in zip(computed, reference).enumerated() where abs(a - b) > 1e-10 * scale {
        XCTFail("\(label): \(key)[\(k)] \(a) vs \(b)", file: file, line: line)
        break
      }
      worst[key] = max(worst[key] ?? 0, (zip(computed, reference).map { abs($0 - $1) }.max() ?? .infinity) / scale)
    }
    worst["energy"] = max(worst["energy"] ?? 0, abs(computedEnergy - energy) / abs(energy))
  }

  /// The two heads of a multi-task model (tools/dpa3/make_multitask.py: DeePMD-kit's `dp --pt freeze
  /// --head HEAD`, then `dp convert-backend`), each against DeePMD-kit's references for that head;
  /// the heads share the descriptor's weights and differ in their fittings.
  func testMultiTaskHeadsMatchDeePMDKit() throws {
    var models: [RepflowModel] = [], energies: [Double] = []
    for head in ["cuag", "cuag_soft"] {
      let folder = "models/cuag_dpa3_multitask"
      let evaluator = RepflowEvaluator(model: try RepflowModel.load(path: inputPath("\(folder)/\(head).dp")))
      let frames = try ExtendedXYZ.read(contentsOf: inputPath("\(folder)/fixtures/\(head)/reference.xyz"))
      XCTAssertEqual(frames.count, 7, head)
      var worst: [String: Double] = [:]
      for frame in frames {
        let result = try evaluator.evaluate(positions: frame.positions, types: frame.types(in: evaluator.model.typeMap),
                                            cell: frame.periodicCell)
        Self.assertMatchesDeePMDKit(energy: result.energy, atomEnergies: result.atomEnergies, forces: result.forces,
                                    virial: result.virial, atomVirials: result.atomVirials, reference: frame,
                                    label: frame.label(model: "multi-task head \(head)"), worst: &worst)
        if energies.count < models.count + 1 { energies.append(result.energy) }
      }
      print("multi-task head \(head) vs DeePMD-kit:", worst.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
      models.append(evaluator.model)
    }
    XCTAssertEqual(models[0].typeEmbedding, models[1].typeEmbedding, "one shared type embedding")
    for (a, b) in zip(models[0].layers, models[1].layers) {
      XCTAssertEqual(a.nodeSymmetric.weights, b.nodeSymmetric.weights, "one shared descriptor")
      XCTAssertEqual(a.angleSelf.weights, b.angleSelf.weights, "one shared descriptor")
    }
    XCTAssertNotEqual(models[0].fittings[0].layers[0].weights, models[1].fittings[0].layers[0].weights, "two fittings")
    XCTAssertGreaterThan(abs(energies[0] - energies[1]), 1e-3 * abs(energies[0]), "the heads give other energies")
  }

  /// Central differences of the model's own energy (step 1e-5 Å, and 1e-6 of strain) against the
  /// backward pass's forces and virial, on the distorted 4-atom cell, for every model.
  func testForcesAndVirialAreDerivatives() throws {
    for name in Self.models {
      let evaluator = RepflowEvaluator(model: try RepflowModel.load(path: ModelEditing.modelPath(name)))
      var (x, types, cell) = Self.distortedCell()
      if evaluator.model.typeCount == 3 { types[2] = 2 }  // Cu, Ag, Au, Ag
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
      // W = −∂E/∂ε (ε the strain applied to positions and cell, x → x(1 + ε)).
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

  /// The 4-atom box (ghosts two images deep at e_rcut 5 Å) and its 2×2×2 supercell are the same
  /// crystal: every copy of an atom must get that atom's energy. In the small box an atom's
  /// neighbours three layers away are mostly images of atoms whose features only reach them by
  /// forwarding; in the supercell more of them are owned.
  func testSupercellGivesTheSameAtomEnergies() throws {
    let evaluator = RepflowEvaluator(model: try RepflowModel.load(path: ModelEditing.modelPath("cuag_dpa3")))
    let (x, types, cell) = Self.distortedCell()
    let small = try evaluator.evaluate(positions: x, types: types, cell: cell)
    var bigPositions: [Double] = [], bigTypes: [Int32] = []
    for i in 0..<2 { for j in 0..<2 { for k in 0..<2 {
      for a in 0..<types.count {
        for c in 0..<3 {
          bigPositions.append(x[3 * a + c] + Double(i) * cell[c] + Double(j) * cell[3 + c] + Double(k) * cell[6 + c])
        }
        bigTypes.append(types[a])
      }
    } } }
    let big = try evaluator.evaluate(positions: bigPositions, types: bigTypes, cell: cell.map { 2 * $0 })
    XCTAssertEqual(big.atomEnergies.count, 8 * types.count)
    for (k, e) in big.atomEnergies.enumerated() {
      XCTAssertEqual(e, small.atomEnergies[k % types.count], accuracy: 1e-12 * abs(e), "supercell atom \(k)")
    }
    for k in 0..<big.forces.count {
      XCTAssertEqual(big.forces[k], small.forces[k % small.forces.count], accuracy: 1e-11, "supercell force \(k)")
    }
  }

  /// Without forwarding, the images keep the initial type-embedding features: the energy of a
  /// periodic box must then differ (what the exchange carries is used), while a cluster, which
  /// has no ghosts, is unchanged.
  func testGhostFeaturesAreForwardedBeforeEveryLayer() throws {
    let evaluator = RepflowEvaluator(model: try RepflowModel.load(path: ModelEditing.modelPath("cuag_dpa3")))
    let (x, types, cell) = Self.distortedCell()
    let forwarded = try evaluator.evaluate(positions: x, types: types, cell: cell, forces: false)
    // The single point's own images and list, with a halo that forwards nothing.
    let stale = try evaluateSinglePoint(positions: x, types: types, cell: cell, cutoff: evaluator.model.cutoff,
                                        typeMap: evaluator.model.typeMap) {
      evaluator.compute(positions: $0.positions, types: $0.types, ownedCount: $0.ownedCount, totalCount: $0.totalCount,
                        neighborOffsets: $0.offsets, neighbors: $0.neighbors, ghosts: NoGhostRows(),
                        atomEnergies: $0.atomEnergies)
    }
    XCTAssertGreaterThan(abs(stale.energy - forwarded.energy), 1e-6 * abs(forwarded.energy))
  }

  func testReaderRefusesWhatItDoesNotEvaluate() throws {
    // The se_e2_a / DPA-1 loader refuses DPA-3 (DeviationModel.load routes it to RepflowModel).
    XCTAssertThrowsError(try DeepPotentialModel.load(path: ModelEditing.modelPath("cuag_dpa3"))) { error in
      XCTAssertTrue("\(error)".contains("model.descriptor.type: a DPA-3 model (dpa3) here"), "\(error)")
    }
    let refusals: [(String, JSONValue, String)] = [
      ("model.descriptor.repflow_args.sequential_update", .bool(true), "sequential_update true"),
      ("model.descriptor.repflow_args.a_compress_rate", .number(3), "a_dim · a_compress_e_rate divisible by 2c"),
      ("model.descriptor.repflow_args.a_compress_rate", .number(2),
       "repflow_layers[0].a_compress_rate: disagrees with model.descriptor.repflow_args.a_compress_rate"),
      ("model.descriptor.repflow_args.sel_reduce_factor", .number(0), "sel_reduce_factor: expected a positive factor"),
      ("model.descriptor.repflow_args.n_multi_edge_message", .number(2), "n_multi_edge_message other than 1"),
      ("model.descriptor.repflow_args.update_angle", .bool(false), "update_angle false"),
      ("model.descriptor.repflow_args.update_style", .string("res_other"), "update_style 'res_other'"),
      ("model.descriptor.add_chg_spin_ebd", .bool(true), "add_chg_spin_ebd true"),
      ("model.descriptor.env_protection", .number(0.5), "env_protection other than 0"),
      ("model.descriptor.exclude_types", .array([.array([.number(0), .number(1)])]), "descriptor exclude_types"),
      ("model.pair_exclude_types", .array([.array([.number(0), .number(1)])]), "pair_exclude_types"),
      ("model.descriptor.repflow_args.nlayers", .number(2), "3 layers stored, nlayers is 2"),
      ("model.descriptor.repflow_args.n_dim", .number(8), "expected n_dim = 8"),
      ("model.descriptor.repflow_variable.repflow_layers.1.smooth_edge_update", .bool(false),
       "repflow_layers[1].smooth_edge_update: disagrees with model.descriptor.repflow_args.smooth_edge_update"),
    ]
    for (key, value, message) in refusals {
      let path = try ModelEditing.copy("cuag_dpa3") { $0[path: key] = value }
      XCTAssertThrowsError(try RepflowModel.load(path: path), key) { error in
        XCTAssertTrue("\(error)".contains(message), "\(key): \(error)")
        XCTAssertTrue("\(error)".contains(path), "\(key): \(error)")
      }
    }
  }

  /// Options changed in the block and in every layer alike: use_dynamic_sel is DeePMD-kit's only
  /// with smooth_edge_update (it raises otherwise); a_compress_rate without use_split needs each
  /// layer's compression maps.
  func testInconsistentOptionGroupsAreRefused() throws {
    for (name, key, value, layers, message) in [
      ("cuag_dpa3_incr", "use_dynamic_sel", JSONValue.bool(true), 2, "use_dynamic_sel needs smooth_edge_update true"),
      ("cuag_dpa3", "a_compress_rate", JSONValue.number(2), 3, "repflow_layers[0].a_compress_n_linear: expected a layer"),
    ] {
      let path = try ModelEditing.copy(name) {
        $0[path: "model.descriptor.repflow_args.\(key)"] = value
        for l in 0..<layers { $0[path: "model.descriptor.repflow_variable.repflow_layers.\(l).\(key)"] = value }
      }
      XCTAssertThrowsError(try RepflowModel.load(path: path), key) { error in
        XCTAssertTrue("\(error)".contains(message), "\(key): \(error)")
      }
    }
  }

  /// An fcc cell of 4 atoms (a₀ 3.8 Å, Cu and Ag alternating) sheared into a triclinic cell,
  /// atoms displaced: ghosts two images deep at e_rcut 5 Å.
  static func distortedCell() -> (positions: [Double], types: [Int32], cell: [Double]) {
    AttentionModelTests.distortedCell()
  }
}
