@testable import DeepPotential
import DeepPotentialEngine
import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// `precision float32` (embedding networks, compressed tables and fitting networks in Float)
/// against the float64 evaluation of the same model.
final class SinglePrecisionTests: XCTestCase {
  /// Every trained model with its DeePMD-kit reference configurations, and the min_nbor_dist its
  /// tables are built with (the compressed copper model carries `dp compress`'s tables).
  static let trained: [(model: String, references: String, distance: Double?)] = [
    ("models/cu_se_e2_a/cu_se_e2_a.dp", "models/cu_se_e2_a/fixtures/reference.xyz", 2.0129867224877644),
    ("models/cu_se_e2_a_compressed/cu_se_e2_a_compressed.dp", "models/cu_se_e2_a_compressed/fixtures/reference.xyz", nil),
    ("models/cuau_se_e2_a/cuau_se_e2_a.dp", "models/cuau_se_e2_a/fixtures/reference.xyz", 2.0),
    ("models/cu_ensemble/cu_ens1.dp", "models/cu_ensemble/reference_cu_ens1.xyz", 2.0),
    ("models/cu_ensemble/cu_ens2.dp", "models/cu_ensemble/reference_cu_ens2.xyz", 2.0),
    ("models/cu_ensemble/cu_ens3.dp", "models/cu_ensemble/reference_cu_ens3.xyz", 2.0),
  ]

  /// Energy, forces and virial of every reference configuration of every trained model, with the
  /// networks and with tables, in float32 against float64 of the same model: the energy within
  /// 1e-5 of its own magnitude or 1e-6 eV per atom, whichever is larger; forces within 5e-6 eV/Å; the
  /// virial within 1e-5 of its largest component.
  ///
  /// The floor is there because a relative error of an energy depends on its arbitrary zero: where
  /// E ≈ 0 every atom rounds alike and the errors add coherently. The perfect lattices (copper
  /// 3.8e-4 eV/atom, CuAu −1.0e-2 eV/atom) err by 7.7e-7 and 6.5e-7 eV/atom, 1e-3 and 6e-5 of E; the
  /// CuAu 4-atom box (E = 0.10 eV) by 2.7e-7 eV/atom, which is 1.07e-5 of E on an Intel Xeon and 8.9e-6
  /// on Zen 3 (OpenBLAS picks its kernels by CPU). Elsewhere most relative errors are below 1e-6.
  func testFloat32AgreesWithFloat64OnEveryReferenceConfiguration() throws {
    for (path, references, distance) in Self.trained {
      let loaded = try DeepPotentialModel.load(path: inputPath(path))
      let variants = try distance.map { [("networks", loaded), ("tables", try loaded.tabulated(TabulationSettings(minNeighborDistance: $0)))] }
        ?? [("tables", loaded)]
      for (mode, model) in variants {
        let double = DeepPotentialEvaluator(model: model), single = DeepPotentialEvaluator(model: model, precision: .float32)
        // Not vacuous: the Float kernels are the ones running.
        if mode == "tables" {
          guard case .float32 = single.fusedTables else { return XCTFail("\(path): Float tables expected") }
        } else {
          XCTAssertTrue(single.single?.embeddings.contains { $0 != nil } ?? false, "\(path): Float embedding networks")
        }
        for frame in try ExtendedXYZ.read(contentsOf: inputPath(references)) {
          let label = "\(path) \(mode) \(frame.info["config"].map { "\($0)" } ?? "#\(frame.atomCount)")"
          let types = frame.species.map { Int32(model.typeMap.firstIndex(of: $0)!) }
          let cell = frame.pbc == [true, true, true] ? frame.lattice : nil
          let a = try single.evaluate(positions: frame.positions, types: types, cell: cell)
          let b = try double.evaluate(positions: frame.positions, types: types, cell: cell)
          let relative = abs(a.energy - b.energy) / abs(b.energy)
          let force = maxAbsoluteDifference(a.forces, b.forces)
          XCTAssertLessThanOrEqual(abs(a.energy - b.energy), max(1e-5 * abs(b.energy), 1e-6 * Double(types.count)),
                                   "\(label): energy (relative error \(relative))")
          XCTAssertLessThan(force, 5e-6, "\(label): forces (eV/Å)")
          XCTAssertLessThan(maxAbsoluteDifference(a.virial, b.virial), 1e-5 * max(1, b.virial.map(abs).max()!), "\(label): virial")
          XCTAssertNotEqual(a.energy, b.energy, "\(label): the float path rounds")
        }
      }
    }
  }
}
