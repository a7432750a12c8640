/// The extra inputs of a fitting trained with `numb_fparam` / `numb_aparam` (DP-GEN's electronic
/// temperature): DeePMD-kit appends the frame parameters, then the atomic parameters, each
/// normalised as (value − avg)·inv_std, to every atom's descriptor before the fitting layers.
///
/// Tessera takes them as constants of a run (`pair_style deepmd … fparam V…` / `aparam V…`, the
/// same values for every atom, `tessera eval --fparam/--aparam`): then their share of the first
/// layer, p·W_p, is the same for every atom and is folded into that layer's bias once, and the
/// networks the evaluators run take the descriptor alone. The forces are unchanged by the folding:
/// the parameters do not depend on positions, so their columns' gradient was never used.
public struct FittingParameters: Sendable {
  /// numb_fparam and numb_aparam.
  public let frameCount, atomCount: Int
  let frameAverage, frameInverseDeviation: [Double]
  let atomAverage, atomInverseDeviation: [Double]
  /// `default_fparam` of the fitting: the frame parameters used when none are given.
  public let defaultFrame: [Double]?
  /// Per type, the fitting network whose first layer takes descriptor + frameCount + atomCount inputs.
  let networks: [DenseNetwork]
  /// Types whose fitting subtracts the network at a zero descriptor (`atom_ener`); the parameters
  /// stay in that input, so the subtrahend depends on them.
  let vacuumTypes: [Bool]
  let location: String

  init(frameCount: Int, atomCount: Int, frameAverage: [Double], frameInverseDeviation: [Double],
       atomAverage: [Double], atomInverseDeviation: [Double], defaultFrame: [Double]?,
       networks: [DenseNetwork], vacuumTypes: [Bool], location: String) throws {
    (self.frameCount, self.atomCount, self.defaultFrame, self.networks) = (frameCount, atomCount, defaultFrame, networks)
    (self.frameAverage, self.frameInverseDeviation) = (frameAverage, frameInverseDeviation)
    (self.atomAverage, self.atomInverseDeviation) = (atomAverage, atomInverseDeviation)
    (self.vacuumTypes, self.location) = (vacuumTypes, location)
    guard frameAverage.count == frameCount, frameInverseDeviation.count == frameCount,
          atomAverage.count == atomCount, atomInverseDeviation.count == atomCount else {
      throw DeepPotentialError("\(location): fparam/aparam statistics: expected \(frameCount) and \(atomCount) values, "
        + "found \(frameAverage.count)/\(frameInverseDeviation.count) and \(atomAverage.count)/\(atomInverseDeviation.count)")
    }
    if let defaultFrame, defaultFrame.count != frameCount {
      throw DeepPotentialError("\(location): default_fparam has \(defaultFrame.count) values, numb_fparam is \(frameCount)")
    }
    for network in networks where network.layers[0].residual != .none {
      // The residual would add the parameter columns back too, which a folded bias cannot express.
      throw DeepPotentialError("\(location): a first fitting layer with a residual (\(network.inputWidth) → "
        + "\(network.layers[0].outputWidth) with resnet) over the fparam/aparam inputs is not supported")
    }
  }

  /// The networks with `frame` and `atom` (raw values, as the deck gives them) folded into the
  /// first layer's bias, and the vacuum energy of each type at those values.
  func folded(frame: [Double], atom: [Double]) -> (networks: [DenseNetwork], vacuumEnergy: [Double]) {
    let extra = zip(frame, zip(frameAverage, frameInverseDeviation)).map { ($0 - $1.0) * $1.1 }
      + zip(atom, zip(atomAverage, atomInverseDeviation)).map { ($0 - $1.0) * $1.1 }
    let networks = networks.map { network -> DenseNetwork in
      let first = network.layers[0], width = first.outputWidth
      let kept = first.inputWidth - extra.count
      var bias = first.bias ?? [Double](repeating: 0, count: width)
      for (k, x) in extra.enumerated() {
        for o in 0..<width { bias[o] += x * first.weights[(kept + k) * width + o] }
      }
      let layer = DenseLayer(inputWidth: kept, outputWidth: width, weights: Array(first.weights[0..<(kept * width)]),
                             bias: bias, timestep: first.timestep, activation: first.activation, residual: .none)
      return DenseNetwork(layers: [layer] + network.layers.dropFirst())
    }
    let vacuum = zip(networks, vacuumTypes).map { $1 ? $0.valueAtZero() : 0 }
    return (networks, vacuum)
  }
}

extension DeepPotentialModel {
  /// numb_fparam and numb_aparam of the model's fitting (0 when it has none).
  public var frameParameterCount: Int { parameters?.frameCount ?? 0 }
  public var atomParameterCount: Int { parameters?.atomCount ?? 0 }
  /// Whether the model takes fparam/aparam and they have not been given (`withParameters`) yet;
  /// such a model cannot be evaluated.
  public var awaitsParameters: Bool { parameters != nil && parameterValues == nil }

  /// The model evaluated at frame parameters `frame` and atomic parameters `atom` (the same for
  /// every atom), refused as DeePMD-kit refuses them: a count other than numb_fparam/numb_aparam,
  /// and no fparam for a model without `default_fparam` (nil: none given).
  public func withParameters(frame: [Double]?, atom: [Double]?) throws -> DeepPotentialModel {
    let frameCount = frameParameterCount, atomCount = atomParameterCount
    if let frame, frame.count != frameCount {
      throw DeepPotentialError(frameCount == 0
        ? "\(path) takes no frame parameters (numb_fparam 0), but fparam gives \(frame.count)"
        : "\(path) takes \(frameCount) frame parameter(s) (numb_fparam \(frameCount)), but fparam gives \(frame.count)")
    }
    if let atom, atom.count != atomCount {
      throw DeepPotentialError(atomCount == 0
        ? "\(path) takes no atomic parameters (numb_aparam 0), but aparam gives \(atom.count)"
        : "\(path) takes \(atomCount) atomic parameter(s) per atom (numb_aparam \(atomCount)), but aparam gives \(atom.count)")
    }
    guard let parameters else { return self }
    guard let frameValues = frame ?? (frameCount == 0 ? [] : parameters.defaultFrame) else {
      throw DeepPotentialError("\(path) needs \(frameCount) frame parameter(s) (numb_fparam \(frameCount), no "
        + "default_fparam); give them: fparam V…")
    }
    guard let atomValues = atom ?? (atomCount == 0 ? [] : nil) else {
      throw DeepPotentialError("\(path) needs \(atomCount) atomic parameter(s) per atom (numb_aparam \(atomCount)); give them: aparam V…")
    }
    var model = self
    (model.fittings, model.vacuumEnergy) = parameters.folded(frame: frameValues, atom: atomValues)
    model.parameterValues = (frameValues, atomValues)
    return model
  }
}
