import CBLAS

/// Precision of the fitting networks' arithmetic (`pair_style deepmd … precision float32`): the
/// descriptor, geometry, forces and the sums of energy and virial stay in Double either way, as in
/// DeePMD-kit's mixed precision.
public enum NetworkPrecision: String, Sendable {
  case float64, float32
}

/// A fitting network with Float weights: products through `sgemm` (twice the lanes of `dgemm`),
/// activations evaluated in Double four at a time and rounded back.
struct SinglePrecisionNetwork {
  struct Layer {
    let inputWidth, outputWidth: Int
    let weights: [Float]
    let bias: [Float]?
    let timestep: [Float]?
    let activation: Activation
    let residual: Residual
  }

  let layers: [Layer]
  var inputWidth: Int { layers[0].inputWidth }
  var widestLayer: Int { layers.map { max($0.inputWidth, $0.outputWidth) }.max() ?? 0 }

  init(_ network: DenseNetwork) {
    layers = network.layers.map { layer in
      Layer(inputWidth: layer.inputWidth, outputWidth: layer.outputWidth, weights: layer.weights.map(Float.init),
            bias: layer.bias?.map(Float.init), timestep: layer.timestep?.map(Float.init),
            activation: layer.activation, residual: layer.residual)
    }
  }

  /// The output of each row and its gradient with respect to the row, as
  /// `DenseNetwork.evaluateWithGradient` in Double.
  func evaluateWithGradient(_ inputs: UnsafePointer<Float>, rows: Int, outputs: UnsafeMutablePointer<Float>,
                            gradient: UnsafeMutablePointer<Float>, workspace: SinglePrecisionWorkspace) {
    let size = rows * widestLayer
    var current = workspace.buffers[0].reserve(size), next = workspace.buffers[1].reserve(size)
    let third = workspace.buffers[2].reserve(size)
    let derivatives = workspace.derivatives.reserve(rows * layers.reduce(0) { $0 + $1.outputWidth })
    current.update(from: inputs, count: rows * inputWidth)
    var offset = 0
    for layer in layers {
      layer.apply(current, rows: rows, output: next, slopes: derivatives + offset)
      offset += rows * layer.outputWidth
      swap(&current, &next)
    }
    outputs.update(from: current, count: rows)
    var g = current, gz = next, gx = third
    g.update(repeating: 1, count: rows * layers[layers.count - 1].outputWidth)
    for layer in layers.reversed() {
      let n = layer.outputWidth, k = layer.inputWidth
      offset -= rows * n
      for at in 0..<(rows * n) { gz[at] = g[at] * derivatives[offset + at] }
      layer.weights.withUnsafeBufferPointer { w in
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(rows), blasint(k), blasint(n), 1,
                    gz, blasint(n), w.baseAddress!, blasint(n), 0, gx, blasint(k))
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

extension SinglePrecisionNetwork.Layer {
  /// y = φ(x·W + b) ⊙ idt + residual for `rows` rows; φ'(z) ⊙ idt into `slopes`.
  func apply(_ input: UnsafePointer<Float>, rows: Int, output: UnsafeMutablePointer<Float>,
             slopes: UnsafeMutablePointer<Float>) {
    let n = outputWidth, k = inputWidth
    weights.withUnsafeBufferPointer { w in
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(rows), blasint(n), blasint(k), 1,
                  input, blasint(k), w.baseAddress!, blasint(n), 0, output, blasint(n))
    }
    for r in 0..<rows {
      let value = output + r * n, slope = slopes + r * n
      var o = 0
      while o < n {
        let lanes = min(4, n - o)
        var z = SIMD4<Double>()
        for lane in 0..<lanes { z[lane] = Double(value[o + lane]) + Double(bias?[o + lane] ?? 0) }
        var y = SIMD4<Double>(), dy = SIMD4<Double>()
        if activation == .tanh {
          y = vectorTanh(z)
          dy = 1 - y * y
        } else {
          for lane in 0..<lanes {
            y[lane] = activation.value(z[lane])
            dy[lane] = activation.derivative(z[lane], output: y[lane])
          }
        }
        for lane in 0..<lanes {
          let idt = Double(timestep?[o + lane] ?? 1)
          value[o + lane] = Float(y[lane] * idt)
          slope[o + lane] = Float(dy[lane] * idt)
        }
        o += 4
      }
      let x = input + r * k
      switch residual {
      case .none: break
      case .identity:
        for i in 0..<k { value[i] += x[i] }
      case .doubling:
        for i in 0..<k {
          value[i] += x[i]
          value[k + i] += x[i]
        }
      }
    }
  }
}

/// Reusable Float buffers for `SinglePrecisionNetwork`; grow only when a larger batch arrives.
final class SinglePrecisionWorkspace {
  final class Buffer {
    private(set) var pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var capacity = 1

    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
      if count > capacity {
        pointer.deallocate()
        capacity = max(count, 2 * capacity)
        pointer = .allocate(capacity: capacity)
      }
      return pointer
    }

    deinit { pointer.deallocate() }
  }

  let buffers = [Buffer(), Buffer(), Buffer()]
  let derivatives = Buffer()
  /// The block's descriptors, gradients and outputs in Float.
  let input = Buffer(), gradient = Buffer(), output = Buffer()
}
