@testable import DeepPotential
import Foundation
import TesseraTestSupport
import XCTest

/// The vectorised activation and layer loops against straightforward scalar code.
final class FastPathTests: XCTestCase {
  /// Distance in units in the last place of `expected`.
  private func ulps(_ value: Double, _ expected: Double) -> Double {
    value == expected ? 0 : abs(value - expected) / expected.ulp
  }

  func testVectorTanhIsWithinFourUlpEverywhere() {
    var generator = SystemRandomNumberGenerator()
    // Tiny, around the switch between the two formulas (0.625), moderate, saturating, any size.
    let ranges: [(Double, Double)] = [(0, 1e-12), (1e-12, 1e-4), (1e-4, 0.3), (0.3, 0.9), (0.9, 3), (3, 19.5), (19.5, 40)]
    var worst = 0.0
    for (low, high) in ranges {
      for _ in 0..<(1 << 16) {
        let x = SIMD4<Double>((0..<4).map { lane in
          Double.random(in: low...high, using: &generator) * (lane % 2 == 0 ? 1 : -1)
        })
        let y = vectorTanh(x)
        for lane in 0..<4 { worst = max(worst, ulps(y[lane], Foundation.tanh(x[lane]))) }
      }
    }
    for _ in 0..<(1 << 16) {
      let x = Double(sign: Bool.random(using: &generator) ? .plus : .minus,
                     exponent: Int.random(in: -1074...1023, using: &generator),
                     significand: Double.random(in: 1..<2, using: &generator))
      worst = max(worst, ulps(vectorTanh(SIMD4(repeating: x))[0], Foundation.tanh(x)))
    }
    XCTAssertLessThanOrEqual(worst, 4)
    let specials = vectorTanh(SIMD4(-0.0, .infinity, -.greatestFiniteMagnitude, .leastNonzeroMagnitude))
    XCTAssertEqual(specials[0].bitPattern, (-0.0).bitPattern)
    XCTAssertEqual(specials[1], 1)
    XCTAssertEqual(specials[2], -1)
    XCTAssertEqual(specials[3], .leastNonzeroMagnitude)
    XCTAssertTrue(vectorTanh(SIMD4(repeating: .nan))[0].isNaN)
  }

  /// y = φ(x·W + b) ⊙ idt + residual (spec §4.2) one element at a time, with its tangent.
  private func reference(_ layer: DenseLayer, input: [Double], tangent: [Double]) -> ([Double], [Double]) {
    let k = layer.inputWidth
    var values = [Double](), tangents = [Double]()
    for o in 0..<layer.outputWidth {
      var z = layer.bias?[o] ?? 0, dz = 0.0
      for i in 0..<k {
        z += input[i] * layer.weights[i * layer.outputWidth + o]
        dz += tangent[i] * layer.weights[i * layer.outputWidth + o]
      }
      let y = layer.activation == .tanh ? Foundation.tanh(z) : layer.activation.value(z)
      let slope = layer.activation.derivative(z, output: y) * (layer.timestep?[o] ?? 1)
      var value = y * (layer.timestep?[o] ?? 1), dy = dz * slope
      switch layer.residual {
      case .none: break
      case .identity: value += input[o]; dy += tangent[o]
      case .doubling: value += input[o % k]; dy += tangent[o % k]
      }
      values.append(value)
      tangents.append(dy)
    }
    return (values, tangents)
  }

  func testEmbeddingNetworksMatchTheScalarFormula() throws {
    for (name, path) in [("copper", ModelEditing.modelPath("cu_se_e2_a")),
                         ("gelu", inputPath("models/variants/one_side_gelu_relu/one_side_gelu_relu.dp"))] {
      let model = try DeepPotentialModel.load(path: path)
      let network = try XCTUnwrap(model.embeddings.compactMap { $0 }.first)
      let inputs = (0..<37).map { Double($0) * 0.11 - 1.3 }
      var output = [Double](repeating: 0, count: 2 * inputs.count * network.outputWidth)
      network.embed(inputs, rows: inputs.count, into: &output, workspace: EmbeddingWorkspace<Double>())
      let values = output[..<(inputs.count * network.outputWidth)], slopes = output[(inputs.count * network.outputWidth)...]
      for (row, s) in inputs.enumerated() {
        var x = [s], dx = [1.0]
        for layer in network.layers { (x, dx) = reference(layer, input: x, tangent: dx) }
        for m in 0..<network.outputWidth {
          let at = row * network.outputWidth + m
          XCTAssertEqual(values[at], x[m], accuracy: 1e-13 * max(1, abs(x[m])), "\(name) G[\(row)][\(m)]")
          XCTAssertEqual(slopes[slopes.startIndex + at], dx[m], accuracy: 1e-13 * max(1, abs(dx[m])), "\(name) G'[\(row)][\(m)]")
        }
      }
    }
  }
}
