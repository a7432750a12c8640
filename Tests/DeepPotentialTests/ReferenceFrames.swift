import DeepPotential
import DeepPotentialEngine
import Trajectory

/// How the model tests read DeePMD-kit's reference frames (`reference.xyz`).
extension ExtendedXYZFrame {
  /// "MODEL CONFIG": how failure messages name this frame of model `name`.
  func label(model name: String) -> String { "\(name) \(info["config"].map { "\($0)" } ?? "?")" }

  /// The cell when periodic in all three directions; nil for a cluster.
  var periodicCell: [Double]? { pbc == [true, true, true] ? lattice : nil }

  /// The species as indices into a model's `typeMap`.
  func types(in typeMap: [String]) -> [Int32] { species.map { Int32(typeMap.firstIndex(of: $0)!) } }
}

extension DeepPotentialEvaluator {
  /// Evaluates a reference frame, its species mapped to `typeMap`.
  func evaluate(_ frame: ExtendedXYZFrame, typeMap: [String]) throws -> SinglePointResult {
    try evaluate(positions: frame.positions, types: frame.types(in: typeMap), cell: frame.periodicCell)
  }
}
