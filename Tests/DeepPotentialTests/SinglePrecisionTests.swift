@testable import DeepPotential
import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// The float32 fitting networks (`precision float32`) against the float64 evaluation.
final class SinglePrecisionTests: XCTestCase {
  /// Energy, forces and virial of every reference configuration of every trained model
  /// (uncompressed and compressed) against float64.
  func testFloat32AgreesWithFloat64OnEveryReferenceConfiguration() throws {
    for name in ReferenceFixtureTests.models {
      let model = try DeepPotentialModel.load(path: ModelEditing.modelPath(name))
      let double = DeepPotentialEvaluator(model: model), single = DeepPotentialEvaluator(model: model, precision: .float32)
      for frame in try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz")) {
        let label = "\(name) \(frame.info["config"].map { "\($0)" } ?? "?")"
        let types = frame.species.map { Int32(model.typeMap.firstIndex(of: $0)!) }
        let cell = frame.pbc == [true, true, true] ? frame.lattice : nil
        let a = try single.evaluate(positions: frame.positions, types: types, cell: cell)
        let b = try double.evaluate(positions: frame.positions, types: types, cell: cell)
        // 1e-5 relative, with a floor of 1e-6 eV per atom: these models' energies are EMT's, which
        // vanish at the perfect lattice, where a relative bound alone would ask for more than Float
        // rounding of the descriptor (~6e-8) allows.
        XCTAssertLessThanOrEqual(abs(a.energy - b.energy), 1e-5 * abs(b.energy) + 1e-6 * Double(types.count), label)
        XCTAssertLessThan(maxAbsoluteDifference(a.forces, b.forces), 1e-6, "\(label): forces (eV/Å)")
        XCTAssertLessThan(maxAbsoluteDifference(a.virial, b.virial), 1e-5 * max(1, b.virial.map(abs).max()!), "\(label): virial")
        // Not vacuous: the float path does round.
        XCTAssertNotEqual(a.energy, b.energy, label)
      }
    }
  }
}
