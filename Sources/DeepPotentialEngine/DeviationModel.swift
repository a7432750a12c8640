import DeepPotential

/// One model of a deviation ensemble: a descriptor evaluated on its own (`DeepPotentialModel`) or a
/// message-passing DPA-3 (`RepflowModel`) or DPA-2 (`RepformerModel`) model, whose evaluation
/// exchanges per-atom features with the ghosts after every layer. Teacher and student of a
/// distillation are usually one of each, with different cut-offs: every model selects its
/// neighbours within its own r_c from the one list, built (with the ghosts) for the largest.
public enum DeviationModel: Sendable {
  case standard(DeepPotentialModel)
  case repflow(RepflowModel)
  case repformer(RepformerModel)

  /// Reads a `.dp` or `.pb` file, evaluated at `parameters` (`DeepPotentialModel.withParameters`).
  public static func load(path: String, parameters: ModelParameters = ModelParameters()) throws -> DeviationModel {
    if RepflowModel.isDPA3(path: path) {
      try parameters.refuse(for: path, "a DPA-3 model")
      return .repflow(try RepflowModel.load(path: path))
    }
    if RepformerModel.isDPA2(path: path) {
      try parameters.refuse(for: path, "a DPA-2 model")
      return .repformer(try RepformerModel.load(path: path))
    }
    return .standard(try DeepPotentialModel.load(path: path).withParameters(frame: parameters.frame, atom: parameters.atom))
  }

  /// Whether `path` is a message-passing model (DPA-3 or DPA-2), which the se_e2_a loader refuses.
  public static func isMessagePassing(path: String) -> Bool {
    RepflowModel.isDPA3(path: path) || RepformerModel.isDPA2(path: path)
  }

  public var typeMap: [String] {
    switch self {
    case .standard(let m): return m.typeMap
    case .repflow(let m): return m.typeMap
    case .repformer(let m): return m.typeMap
    }
  }

  /// The reach of the model's neighbour list (DPA-2: the repinit's, the longer of its two).
  public var cutoff: Double {
    switch self {
    case .standard(let m): return m.cutoff
    case .repflow(let m): return m.cutoff
    case .repformer(let m): return m.listCutoff
    }
  }

  /// The name of a message-passing model's descriptor (evaluated in float64 only), nil for the others.
  public var messagePassingName: String? {
    switch self {
    case .standard: return nil
    case .repflow: return "DPA-3"
    case .repformer: return "DPA-2"
    }
  }

  /// "rcut R, sel S" for the run's log.
  public var summary: String {
    switch self {
    case .standard(let m): return "rcut \(m.cutoff), sel \(m.selection)"
    case .repflow(let m): return "DPA-3, e_rcut \(m.cutoff), e_sel \(m.selection), \(m.layerCount) layers"
    case .repformer(let m):
      return "DPA-2, repinit rcut \(m.listCutoff), nsel \(m.listSelection), repformer rcut \(m.cutoff), nsel \(m.selection), \(m.layerCount) layers"
    }
  }

  /// The single-point evaluation of `tessera eval` (periodic images as the ghosts).
  func singlePoint() -> ([Double], [Int32], [Double]?) throws -> SinglePointResult {
    switch self {
    case .standard(let m):
      let evaluator = DeepPotentialEvaluator(model: m)
      return { try evaluator.evaluate(positions: $0, types: $1, cell: $2) }
    case .repflow(let m):
      let evaluator = RepflowEvaluator(model: m)
      return { try evaluator.evaluate(positions: $0, types: $1, cell: $2) }
    case .repformer(let m):
      let evaluator = RepformerEvaluator(model: m)
      return { try evaluator.evaluate(positions: $0, types: $1, cell: $2) }
    }
  }
}
