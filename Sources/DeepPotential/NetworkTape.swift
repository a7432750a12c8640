/// A dense network's forward pass over a batch of rows that keeps what the backward pass needs
/// (every layer's input and φ'(z) ⊙ idt), and the vector–Jacobian product back to the inputs.
///
/// The DPA-1 evaluator's networks take rows of any width ([s, T_j, T_i] in concat mode) and feed
/// an attention block, so their outputs' gradients arrive as whole rows (∂E/∂G), unlike the
/// se_e2_a path's one-input embeddings (value and slope together) and scalar-output fittings.
/// Storage is sized once for `capacity` rows: a pass allocates nothing.
final class NetworkTape {
  let network: DenseNetwork
  let capacity: Int
  /// Layer l's input rows (l = 0: the network's input), then the network's output, each
  /// capacity × that width.
  private var values: [UnsafeMutablePointer<Double>]
  /// φ'(z) ⊙ idt of each layer, capacity × its output width.
  private var slopes: [UnsafeMutablePointer<Double>]
  /// Two gradient rows of the widest layer, swapped layer by layer.
  private let gradientA, gradientB: UnsafeMutablePointer<Double>
  private(set) var rows = 0

  init(_ network: DenseNetwork, capacity: Int) {
    self.network = network
    self.capacity = capacity
    values = [zeroedBuffer(capacity * network.inputWidth)] + network.layers.map { zeroedBuffer(capacity * $0.outputWidth) }
    slopes = network.layers.map { zeroedBuffer(capacity * $0.outputWidth) }
    gradientA = zeroedBuffer(capacity * network.widestLayer)
    gradientB = zeroedBuffer(capacity * network.widestLayer)
  }

  deinit {
    for p in values + slopes { p.deallocate() }
    gradientA.deallocate()
    gradientB.deallocate()
  }

  /// The input rows, to be filled before `forward` (rows × inputWidth).
  var input: UnsafeMutablePointer<Double> { values[0] }
  /// The output rows after `forward` (rows × outputWidth).
  var output: UnsafePointer<Double> { UnsafePointer(values[values.count - 1]) }

  /// y = φ(x·W + b) ⊙ idt + residual, layer by layer, as DeePMD-kit's NativeLayer computes it.
  func forward(rows: Int) {
    precondition(rows <= capacity, "NetworkTape: \(rows) rows exceed the capacity \(capacity)")
    self.rows = rows
    for (l, layer) in network.layers.enumerated() {
      let x = values[l], y = values[l + 1], slope = slopes[l]
      let k = layer.inputWidth, n = layer.outputWidth
      layer.weights.withUnsafeBufferPointer { w in
        for r in 0..<rows {
          let xr = x + r * k, yr = y + r * n, sr = slope + r * n
          for o in 0..<n {
            var z = layer.bias?[o] ?? 0
            for i in 0..<k { z += xr[i] * w[i * n + o] }
            let a = layer.activation.value(z)
            let derivative = layer.activation.derivative(z, output: a)
            let step = layer.timestep?[o] ?? 1
            yr[o] = a * step
            sr[o] = derivative * step
          }
          switch layer.residual {
          case .none: break
          case .identity: for o in 0..<n { yr[o] += xr[o] }
          case .doubling: for o in 0..<n { yr[o] += xr[o % k] }
          }
        }
      }
    }
  }

  /// ∂E/∂x for every row of the last `forward`, given ∂E/∂y (`upstream`, rows × outputWidth);
  /// written to `inputGradient` (rows × inputWidth).
  func backward(_ upstream: UnsafePointer<Double>, into inputGradient: UnsafeMutablePointer<Double>) {
    var dy = gradientA, dx = gradientB
    let last = network.layers.count - 1
    dy.update(from: upstream, count: rows * network.outputWidth)
    for l in stride(from: last, through: 0, by: -1) {
      let layer = network.layers[l]
      let k = layer.inputWidth, n = layer.outputWidth, slope = slopes[l]
      let target = l == 0 ? inputGradient : dx
      layer.weights.withUnsafeBufferPointer { w in
        for r in 0..<rows {
          let dyr = dy + r * n, dxr = target + r * k, sr = slope + r * n
          for i in 0..<k {
            var sum = 0.0
            for o in 0..<n { sum += dyr[o] * sr[o] * w[i * n + o] }
            dxr[i] = sum
          }
          switch layer.residual {
          case .none: break
          case .identity: for o in 0..<n { dxr[o] += dyr[o] }
          case .doubling: for o in 0..<n { dxr[o % k] += dyr[o] }
          }
        }
      }
      swap(&dy, &dx)
    }
  }
}
