/// Reusable storage for intermediate results; grows only when a larger batch arrives, so a
/// timestep after the first allocates nothing.
final class ScratchBuffer<Element> {
  private(set) var pointer = UnsafeMutablePointer<Element>.allocate(capacity: 1)
  private var capacity = 1

  func reserve(_ count: Int) -> UnsafeMutablePointer<Element> {
    if count > capacity {
      pointer.deallocate()
      capacity = max(count, 2 * capacity)
      pointer = .allocate(capacity: capacity)
    }
    return pointer
  }

  deinit { pointer.deallocate() }
}

extension DenseLayerOf {
  /// Applies the layer to `rows` input rows and, when `carriesTangents` is set, to as many tangent
  /// rows stored right after them (dy = φ'(z)·(dx·W) ⊙ idt + residual tangent). Writes the
  /// activation derivative φ'(z) ⊙ idt of the value rows to `slopes` (rows × outputWidth) when
  /// given (a backward pass needs it).
  ///
  /// After the product, each row is finished in one sweep while it is in cache: bias, activation,
  /// idt and tangent four lanes at a time, then the residual. What the layer lacks is decided once
  /// per row, not per element. The activation is evaluated in Double whatever `Scalar` is (as
  /// DeePMD-kit's float32 networks keep their sums in float32 and the transcendental accurate).
  func apply(_ input: UnsafePointer<Scalar>, rows: Int, carriesTangents: Bool,
             output: UnsafeMutablePointer<Scalar>, slopes: UnsafeMutablePointer<Scalar>?) {
    let n = outputWidth, k = inputWidth, count = rows * n
    let productRows = carriesTangents ? 2 * rows : rows
    weights.withUnsafeBufferPointer { w in
      if k == 1 {
        // An embedding network's first layer: an outer product, which BLAS would first pack.
        for r in 0..<productRows {
          let x = input[r], y = output + r * n
          for o in 0..<n { y[o] = x * w[o] }
        }
      } else {
        multiply(input, w.baseAddress!, into: output, m: productRows, n: n, k: k)
      }
    }
    withOptionalPointer(bias) { bias in
      withOptionalPointer(timestep) { timestep in
        for r in 0..<rows {
          let value = output + r * n
          let tangent = carriesTangents ? output + count + r * n : nil
          let slope = slopes.map { $0 + r * n }
          if activation == .tanh {
            Self.finishTanh(value, tangent: tangent, slopes: slope, bias: bias, timestep: timestep, width: n)
          } else {
            finish(value, tangent: tangent, slopes: slope, bias: bias, timestep: timestep, width: n)
          }
          // The residual of a tangent row is the input's tangent row, stored the same way.
          addResidual(input + r * k, to: value)
          if let tangent { addResidual(input + (rows + r) * k, to: tangent) }
        }
      }
    }
  }

  /// Eight lanes at a time (two registers: the tanh is latency-bound, and two independent chains
  /// keep the multiply-add units busy), then the row's tail four lanes at a time.
  @inline(__always)
  private static func finishTanh(_ value: UnsafeMutablePointer<Scalar>, tangent: UnsafeMutablePointer<Scalar>?,
                                 slopes: UnsafeMutablePointer<Scalar>?, bias: UnsafePointer<Scalar>?,
                                 timestep: UnsafePointer<Scalar>?, width n: Int) {
    var o = 0
    while o + 8 <= n {
      finishTanhLanes(at: o, value: value, tangent: tangent, slopes: slopes, bias: bias, timestep: timestep,
                      load: { widened8($0) }, store: { narrow8($0, to: $1) })
      o += 8
    }
    while o < n {
      let lanes = min(4, n - o)
      finishTanhLanes(at: o, value: value, tangent: tangent, slopes: slopes, bias: bias, timestep: timestep,
                      load: { widened($0, lanes: lanes) }, store: { narrow($0, to: $1, lanes: lanes) })
      o += 4
    }
  }

  @inline(__always)
  private static func finishTanhLanes<V: TanhLanes>(
    at o: Int, value: UnsafeMutablePointer<Scalar>, tangent: UnsafeMutablePointer<Scalar>?,
    slopes: UnsafeMutablePointer<Scalar>?, bias: UnsafePointer<Scalar>?, timestep: UnsafePointer<Scalar>?,
    load: (UnsafePointer<Scalar>) -> V, store: (V, UnsafeMutablePointer<Scalar>) -> Void
  ) {
    var z = load(value + o)
    if let bias { z += load(bias + o) }
    var y = vectorTanh(z), slope = 1 - y * y
    if let timestep {
      let idt = load(timestep + o)
      y *= idt
      slope *= idt
    }
    store(y, value + o)
    if let slopes { store(slope, slopes + o) }
    if let tangent { store(load(tangent + o) * slope, tangent + o) }
  }

  /// Any activation, one element at a time, in the same order of operations as `finishTanh`.
  private func finish(_ value: UnsafeMutablePointer<Scalar>, tangent: UnsafeMutablePointer<Scalar>?,
                      slopes: UnsafeMutablePointer<Scalar>?, bias: UnsafePointer<Scalar>?,
                      timestep: UnsafePointer<Scalar>?, width n: Int) {
    for o in 0..<n {
      let z = Double(value[o]) + Double(bias?[o] ?? 0)
      let y = activation.value(z)
      let idt = Double(timestep?[o] ?? 1)
      let slope = activation.derivative(z, output: y) * idt
      value[o] = Scalar(y * idt)
      slopes?[o] = Scalar(slope)
      if let tangent { tangent[o] = Scalar(Double(tangent[o]) * slope) }
    }
  }

  @inline(__always)
  private func addResidual(_ x: UnsafePointer<Scalar>, to y: UnsafeMutablePointer<Scalar>) {
    let k = inputWidth
    switch residual {
    case .none: break
    case .identity:
      for i in 0..<k { y[i] += x[i] }
    case .doubling:
      for i in 0..<k {
        y[i] += x[i]
        y[k + i] += x[i]
      }
    }
  }
}

/// The first `lanes` (1…4) values at `p` in Double, zeros after them.
@inline(__always)
private func widened<S: NetworkScalar>(_ p: UnsafePointer<S>, lanes: Int) -> SIMD4<Double> {
  if S.self == Double.self {
    return SIMD4(loading: UnsafeRawPointer(p).assumingMemoryBound(to: Double.self), lanes: lanes)
  }
  if S.self == Float.self && lanes == 4 {
    return SIMD4<Double>(UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self))
  }
  var v = SIMD4<Double>()
  for lane in 0..<lanes { v[lane] = Double(p[lane]) }
  return v
}

/// Eight values at `p` in Double (`S` is Double or Float).
@inline(__always)
private func widened8<S: NetworkScalar>(_ p: UnsafePointer<S>) -> SIMD8<Double> {
  if S.self == Double.self { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self) }
  return SIMD8<Double>(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self))
}

/// Writes eight lanes to `p`, rounded to `S`.
@inline(__always)
private func narrow8<S: NetworkScalar>(_ v: SIMD8<Double>, to p: UnsafeMutablePointer<S>) {
  if S.self == Double.self {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Double>.self)
  } else {
    UnsafeMutableRawPointer(p).storeBytes(of: SIMD8<Float>(v), as: SIMD8<Float>.self)
  }
}

/// Writes the first `lanes` (1…4) lanes to `p`, rounded to `S`.
@inline(__always)
private func narrow<S: NetworkScalar>(_ v: SIMD4<Double>, to p: UnsafeMutablePointer<S>, lanes: Int) {
  if S.self == Double.self {
    v.store(to: UnsafeMutableRawPointer(p).assumingMemoryBound(to: Double.self), lanes: lanes)
    return
  }
  if S.self == Float.self && lanes == 4 {
    UnsafeMutableRawPointer(p).storeBytes(of: SIMD4<Float>(v), as: SIMD4<Float>.self)
    return
  }
  for lane in 0..<lanes { p[lane] = S(v[lane]) }
}

/// Runs `body` with the array's storage, or with nil for an absent array.
@inline(__always)
private func withOptionalPointer<S, R>(_ array: [S]?, _ body: (UnsafePointer<S>?) -> R) -> R {
  guard let array else { return body(nil) }
  return array.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Buffers for an embedding network's forward pass with tangents.
final class EmbeddingWorkspace<Scalar: NetworkScalar> {
  let buffers = (ScratchBuffer<Scalar>(), ScratchBuffer<Scalar>())
}

extension DenseNetworkOf {
  /// Embedding network on scalar inputs: writes the values G (rows × M1), then dG/ds (rows × M1)
  /// right after them, into `output`; the last layer writes there directly.
  func embed(_ inputs: UnsafePointer<Scalar>, rows: Int, into output: UnsafeMutablePointer<Scalar>,
             workspace: EmbeddingWorkspace<Scalar>) {
    let size = 2 * rows * widestLayer
    var current = workspace.buffers.0.reserve(size), next = workspace.buffers.1.reserve(size)
    // Rows of values, then rows of tangents; the input's own tangent is 1.
    current.update(from: inputs, count: rows)
    (current + rows).update(repeating: 1, count: rows)
    for (l, layer) in layers.enumerated() {
      let destination = l == layers.count - 1 ? output : next
      layer.apply(current, rows: rows, carriesTangents: true, output: destination, slopes: nil)
      swap(&current, &next)
    }
  }
}

/// Buffers for a fitting network's forward and backward pass over a batch of atoms.
final class FittingWorkspace<Scalar: NetworkScalar> {
  let buffers = (ScratchBuffer<Scalar>(), ScratchBuffer<Scalar>(), ScratchBuffer<Scalar>())
  let derivatives = ScratchBuffer<Scalar>()
}

extension DenseNetworkOf {
  /// Fitting network: the output (energy) of each row and its gradient with respect to the input.
  func evaluateWithGradient(_ inputs: UnsafePointer<Scalar>, rows: Int, outputs: UnsafeMutablePointer<Scalar>,
                            gradient: UnsafeMutablePointer<Scalar>, workspace: FittingWorkspace<Scalar>) {
    let size = rows * widestLayer
    var current = workspace.buffers.0.reserve(size), next = workspace.buffers.1.reserve(size)
    let third = workspace.buffers.2.reserve(size)
    // Each layer's φ'(z) ⊙ idt, layer after layer.
    let derivatives = workspace.derivatives.reserve(rows * layers.reduce(0) { $0 + $1.outputWidth })
    current.update(from: inputs, count: rows * inputWidth)
    var offset = 0
    for layer in layers {
      layer.apply(current, rows: rows, carriesTangents: false, output: next, slopes: derivatives + offset)
      offset += rows * layer.outputWidth
      swap(&current, &next)
    }
    outputs.update(from: current, count: rows)
    // Backward: g = ∂E/∂y of the current layer, seeded with 1 at the output.
    var g = current, gz = next, gx = third
    g.update(repeating: 1, count: rows * outputWidth)
    for layer in layers.reversed() {
      let n = layer.outputWidth, k = layer.inputWidth
      offset -= rows * n
      for at in 0..<(rows * n) { gz[at] = g[at] * derivatives[offset + at] }
      layer.weights.withUnsafeBufferPointer { w in
        multiply(gz, w.baseAddress!, into: gx, m: rows, n: k, k: n, transposeB: true)
      }
      switch layer.residual {
      case .none: break
      case .identity:
        for at in 0..<(rows * k) { gx[at] += g[at] }
      case .doubling:
        for r in 0..<rows {
          for i in 0..<k { gx[r * k + i] += g[r * n + i] + g[r * n + k + i] }
        }
      }
      swap(&g, &gx)
    }
    gradient.update(from: g, count: rows * inputWidth)
  }
}
