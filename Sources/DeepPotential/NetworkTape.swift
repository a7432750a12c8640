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
  /// Two gradient rows of the widest layer, swapped layer by layer, and ∂E/∂y ⊙ φ' of a layer.
  private let gradientA, gradientB, scaled: UnsafeMutablePointer<Double>
  private(set) var rows = 0

  init(_ network: DenseNetwork, capacity: Int) {
    self.network = network
    self.capacity = capacity
    values = [zeroedBuffer(capacity * network.inputWidth)] + network.layers.map { zeroedBuffer(capacity * $0.outputWidth) }
    slopes = network.layers.map { zeroedBuffer(capacity * $0.outputWidth) }
    gradientA = zeroedBuffer(capacity * network.widestLayer)
    gradientB = zeroedBuffer(capacity * network.widestLayer)
    scaled = zeroedBuffer(capacity * network.widestLayer)
  }

  deinit {
    for p in values + slopes { p.deallocate() }
    gradientA.deallocate()
    gradientB.deallocate()
    scaled.deallocate()
  }

  /// The input rows, to be filled before `forward` (rows × inputWidth).
  var input: UnsafeMutablePointer<Double> { values[0] }
  /// The output rows after `forward` (rows × outputWidth).
  var output: UnsafePointer<Double> { UnsafePointer(values[values.count - 1]) }

  /// y = φ(x·W + b) ⊙ idt + residual, layer by layer, as DeePMD-kit's NativeLayer computes it:
  /// the batch's x·W + b as one BLAS product, tanh (almost every network's activation) four lanes
  /// at a time.
  func forward(rows: Int) {
    precondition(rows <= capacity, "NetworkTape: \(rows) rows exceed the capacity \(capacity)")
    self.rows = rows
    if rows == 0 { return }
    for (l, layer) in network.layers.enumerated() {
      let x = values[l], y = values[l + 1], slope = slopes[l]
      let k = layer.inputWidth, n = layer.outputWidth, count = rows * n
      if let bias = layer.bias {
        bias.withUnsafeBufferPointer { b in
          for r in 0..<rows { (y + r * n).update(from: b.baseAddress!, count: n) }
        }
      }
      layer.weights.withUnsafeBufferPointer { w in
        multiply(UnsafePointer(x), w.baseAddress!, into: y, m: rows, n: n, k: k, accumulate: layer.bias != nil)
      }
      if layer.activation == .tanh {
        var e = 0
        while e < count {
          let lanes = min(4, count - e)
          let a = vectorTanh(SIMD4<Double>(loading: y + e, lanes: lanes))
          a.store(to: y + e, lanes: lanes)
          (1 - a * a).store(to: slope + e, lanes: lanes)
          e += 4
        }
      } else {
        for e in 0..<count {
          let a = layer.activation.value(y[e])
          slope[e] = layer.activation.derivative(y[e], output: a)
          y[e] = a
        }
      }
      if let timestep = layer.timestep {
        for r in 0..<rows {
          for o in 0..<n {
            y[r * n + o] *= timestep[o]
            slope[r * n + o] *= timestep[o]
          }
        }
      }
      for r in 0..<rows {
        let xr = x + r * k, yr = y + r * n
        switch layer.residual {
        case .none: break
        case .identity: for o in 0..<n { yr[o] += xr[o] }
        case .doubling: for o in 0..<n { yr[o] += xr[o % k] }
        }
      }
    }
  }

  /// ∂E/∂x for every row of the last `forward`, given ∂E/∂y (`upstream`, rows × outputWidth);
  /// written to `inputGradient` (rows × inputWidth): per layer (∂E/∂y ⊙ φ' ⊙ idt)·Wᵀ as one BLAS
  /// product, plus the residual's identity.
  func backward(_ upstream: UnsafePointer<Double>, into inputGradient: UnsafeMutablePointer<Double>) {
    var dy = gradientA, dx = gradientB
    let last = network.layers.count - 1
    dy.update(from: upstream, count: rows * network.outputWidth)
    for l in stride(from: last, through: 0, by: -1) {
      let layer = network.layers[l]
      let k = layer.inputWidth, n = layer.outputWidth, slope = slopes[l]
      let target = l == 0 ? inputGradient : dx
      if rows > 0 {
        for e in 0..<(rows * n) { scaled[e] = dy[e] * slope[e] }
        layer.weights.withUnsafeBufferPointer { w in
          multiply(UnsafePointer(scaled), w.baseAddress!, into: target, m: rows, n: k, k: n, transposeB: true)
        }
        for r in 0..<rows {
          let dyr = dy + r * n, dxr = target + r * k
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
