/// Reusable storage for intermediate results; grows only when a larger batch arrives, so a
/// timestep after the first allocates nothing.
final class ScratchBuffer {
  private(set) var pointer = UnsafeMutablePointer<Double>.allocate(capacity: 1)
  private var capacity = 1

  func reserve(_ count: Int) -> UnsafeMutablePointer<Double> {
    if count > capacity {
      pointer.deallocate()
      capacity = max(count, 2 * capacity)
      pointer = .allocate(capacity: capacity)
    }
    return pointer
  }

  deinit { pointer.deallocate() }
}

extension DenseLayer {
  /// Applies the layer to `rows` input rows and, when `tangentRows` is set, carries as many tangent
  /// rows stored right after them (dy = φ'(z)·(dx·W) ⊙ idt + residual tangent). Writes the
  /// activation derivative φ'(z) ⊙ idt to `derivative` when asked (for a backward pass).
  func apply(_ input: UnsafePointer<Double>, rows: Int, tangentRows: Bool,
             output: UnsafeMutablePointer<Double>, derivative: UnsafeMutablePointer<Double>?) {
    let n = outputWidth, k = inputWidth
    weights.withUnsafeBufferPointer { w in
      multiply(input, w.baseAddress!, into: output, m: tangentRows ? 2 * rows : rows, n: n, k: k)
    }
    let tangentOffset = rows * n, inputTangentOffset = rows * k
    for r in 0..<rows {
      for o in 0..<n {
        let at = r * n + o
        let z = output[at] + (bias?[o] ?? 0)
        let y = activation.value(z)
        let scale = timestep?[o] ?? 1
        let slope = activation.derivative(z, output: y) * scale
        var value = y * scale
        var tangent = tangentRows ? output[tangentOffset + at] * slope : 0
        switch residual {
        case .none: break
        case .identity:
          value += input[r * k + o]
          if tangentRows { tangent += input[inputTangentOffset + r * k + o] }
        case .doubling:
          value += input[r * k + o % k]
          if tangentRows { tangent += input[inputTangentOffset + r * k + o % k] }
        }
        output[at] = value
        if tangentRows { output[tangentOffset + at] = tangent }
        derivative?[at] = slope
      }
    }
  }
}

extension DenseNetwork {
  /// Embedding network on scalar inputs: values G (rows × M1) and dG/ds (rows × M1).
  func embed(_ inputs: UnsafePointer<Double>, rows: Int, values: UnsafeMutablePointer<Double>,
             slopes: UnsafeMutablePointer<Double>, scratch: (ScratchBuffer, ScratchBuffer)) {
    let size = 2 * rows * widestLayer
    var current = scratch.0.reserve(size), next = scratch.1.reserve(size)
    // Rows of values, then rows of tangents; the input's own tangent is 1.
    current.update(from: inputs, count: rows)
    (current + rows).update(repeating: 1, count: rows)
    for layer in layers {
      layer.apply(current, rows: rows, tangentRows: true, output: next, derivative: nil)
      swap(&current, &next)
    }
    values.update(from: current, count: rows * outputWidth)
    slopes.update(from: current + rows * outputWidth, count: rows * outputWidth)
  }
}

/// Buffers for a fitting network's forward and backward pass over a batch of atoms.
final class FittingWorkspace {
  let buffers = (ScratchBuffer(), ScratchBuffer(), ScratchBuffer())
  let derivatives = ScratchBuffer()
}

extension DenseNetwork {
  /// Fitting network: the output (energy) of each row and its gradient with respect to the input.
  func evaluateWithGradient(_ inputs: UnsafePointer<Double>, rows: Int, outputs: UnsafeMutablePointer<Double>,
                            gradient: UnsafeMutablePointer<Double>, workspace: FittingWorkspace) {
    let size = rows * widestLayer
    var current = workspace.buffers.0.reserve(size), next = workspace.buffers.1.reserve(size)
    let third = workspace.buffers.2.reserve(size)
    let derivatives = workspace.derivatives.reserve(rows * layers.reduce(0) { $0 + $1.outputWidth })
    current.update(from: inputs, count: rows * inputWidth)
    var offsets: [Int] = []
    var offset = 0
    for layer in layers {
      offsets.append(offset)
      layer.apply(current, rows: rows, tangentRows: false, output: next, derivative: derivatives + offset)
      offset += rows * layer.outputWidth
      swap(&current, &next)
    }
    outputs.update(from: current, count: rows)
    // Backward: g = ∂E/∂y of the current layer, seeded with 1 at the output.
    var g = current, gz = next, gx = third
    g.update(repeating: 1, count: rows * outputWidth)
    for (layer, offset) in zip(layers, offsets).reversed() {
      let n = layer.outputWidth, k = layer.inputWidth
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
