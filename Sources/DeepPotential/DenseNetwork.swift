/// How a layer adds its input back (spec §4.2): only when the `resnet` flag is set and the output
/// is as wide as the input or twice as wide.
enum Residual: Sendable { case none, identity, doubling }

/// y = φ(x·W + b) ⊙ idt + residual, for a row vector x, with parameters in `Scalar` (Double as
/// read; Float for `precision float32`).
struct DenseLayerOf<Scalar: NetworkScalar>: Sendable {
  let inputWidth: Int
  let outputWidth: Int
  /// [inputWidth][outputWidth], row-major: applied as x·W.
  let weights: [Scalar]
  let bias: [Scalar]?
  let timestep: [Scalar]?
  let activation: Activation
  let residual: Residual
}

typealias DenseLayer = DenseLayerOf<Double>
typealias DenseNetwork = DenseNetworkOf<Double>

extension DenseLayerOf {
  /// The layer with its parameters rounded to `Scalar`.
  init<Other: NetworkScalar>(_ layer: DenseLayerOf<Other>) {
    self.init(inputWidth: layer.inputWidth, outputWidth: layer.outputWidth, weights: layer.weights.map(Scalar.init),
              bias: layer.bias?.map(Scalar.init), timestep: layer.timestep?.map(Scalar.init),
              activation: layer.activation, residual: layer.residual)
  }
}

extension DenseLayerOf where Scalar == Double {
  static func load(_ node: DocumentNode) throws -> DenseLayer {
    try node.checkVersion(1...2)
    let variables = node["@variables"]
    let w = try variables["w"].requiredArray()
    guard w.shape.count == 2 else {
      throw DeepPotentialError("\(node.file.path): \(node.keyPath).@variables.w: expected a matrix, found shape \(w.shape)")
    }
    let (inputs, outputs) = (w.shape[0], w.shape[1])
    let precisionNode = node["precision"]
    let precision = precisionNode.isNull ? "float64" : try precisionNode.string()
    guard ["float64", "double", "default"].contains(precision), w.storedByteWidth == 8 else {
      throw DeepPotentialError("\(node.file.path): \(node.keyPath).precision: \(precision) weights are not supported (float64 models only)")
    }
    let activationNode = node["activation_function"]
    let activationName = activationNode.isNull ? "none" : try activationNode.string()
    guard let activation = Activation(name: activationName) else {
      throw DeepPotentialError("\(node.file.path): \(activationNode.keyPath): unknown activation function '\(activationName)'")
    }
    func vector(_ key: String) throws -> [Double]? {
      guard let v = try variables[key].array() else { return nil }
      guard v.shape == [outputs] else {
        throw DeepPotentialError("\(node.file.path): \(variables[key].keyPath): expected shape [\(outputs)], found \(v.shape)")
      }
      return v.values
    }
    let resnetNode = node["resnet"]
    let resnet = resnetNode.isNull ? false : try resnetNode.bool()
    let residual: Residual = !resnet ? .none : outputs == inputs ? .identity : outputs == 2 * inputs ? .doubling : .none
    return DenseLayer(inputWidth: inputs, outputWidth: outputs, weights: w.values, bias: try vector("b"),
                      timestep: try vector("idt"), activation: activation, residual: residual)
  }
}

/// A chain of dense layers: an embedding network (1 → M1) or a fitting network (descriptor → 1).
struct DenseNetworkOf<Scalar: NetworkScalar>: Sendable {
  let layers: [DenseLayerOf<Scalar>]
  /// The most values one row of any layer reads or writes: stored, since every batch sizes its
  /// scratch rows by it (computing it built an array per batch).
  let widestLayer: Int
  var inputWidth: Int { layers[0].inputWidth }
  var outputWidth: Int { layers[layers.count - 1].outputWidth }

  init(layers: [DenseLayerOf<Scalar>]) {
    self.layers = layers
    widestLayer = layers.map { max($0.inputWidth, $0.outputWidth) }.max() ?? 0
  }
}

extension DenseNetworkOf {
  /// The network with its parameters rounded to `Scalar`.
  init<Other: NetworkScalar>(_ network: DenseNetworkOf<Other>) {
    self.init(layers: network.layers.map(DenseLayerOf<Scalar>.init))
  }
}

extension DenseNetworkOf where Scalar == Double {
  static func load(_ node: DocumentNode, inputWidth: Int, outputWidth: Int?) throws -> DenseNetwork {
    try node.checkVersion(1...2)
    let layers = try node["layers"].list().map(DenseLayer.load)
    guard !layers.isEmpty else {
      throw DeepPotentialError("\(node.file.path): \(node.keyPath).layers: expected at least one layer")
    }
    guard layers[0].inputWidth == inputWidth else {
      throw DeepPotentialError("\(node.file.path): \(node.keyPath): first layer takes \(layers[0].inputWidth) inputs, expected \(inputWidth)")
    }
    for (l, pair) in zip(layers, layers.dropFirst()).enumerated() where pair.0.outputWidth != pair.1.inputWidth {
      throw DeepPotentialError("\(node.file.path): \(node.keyPath).layers[\(l + 1)]: takes \(pair.1.inputWidth) inputs but the previous layer gives \(pair.0.outputWidth)")
    }
    let network = DenseNetwork(layers: layers)
    if let outputWidth, network.outputWidth != outputWidth {
      throw DeepPotentialError("\(node.file.path): \(node.keyPath): gives \(network.outputWidth) outputs, expected \(outputWidth)")
    }
    return network
  }
}
