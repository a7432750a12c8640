import Foundation

/// DeePMD-kit's activation functions (spec §4.1), with the derivative expressed through the
/// input z and the output y = φ(z) (cheaper for tanh and sigmoid).
enum Activation: Equatable, Sendable {
  case tanh, gelu, relu, relu6, softplus, sigmoid, silu, linear
  /// SiLU below the threshold T, tanh continuation above (`silut`, `silut:T`, `custom_silu:T`).
  case silut(threshold: Double)

  init?(name: String) {
    let lower = name.lowercased()
    switch lower {
    case "tanh": self = .tanh
    case "gelu", "gelu_tf": self = .gelu
    case "relu": self = .relu
    case "relu6": self = .relu6
    case "softplus": self = .softplus
    case "sigmoid": self = .sigmoid
    case "silu": self = .silu
    case "linear", "none": self = .linear
    case "silut", "custom_silu": self = .silut(threshold: 3.0)
    default:
      let parts = lower.split(separator: ":", maxSplits: 1)
      guard parts.count == 2, parts[0] == "silut" || parts[0] == "custom_silu",
            let threshold = Double(parts[1]) else { return nil }
      self = .silut(threshold: threshold)
    }
  }

  private static let geluScale = (2.0 / Double.pi).squareRoot()

  @inline(__always)
  private static func logistic(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }

  @inline(__always)
  func value(_ z: Double) -> Double {
    switch self {
    case .tanh: return Foundation.tanh(z)
    case .gelu: return 0.5 * z * (1 + Foundation.tanh(Activation.geluScale * (z + 0.044715 * z * z * z)))
    case .relu: return z > 0 ? z : 0
    case .relu6: return min(max(z, 0), 6)
    case .softplus: return z > 0 ? z + Foundation.log1p(Foundation.exp(-z)) : Foundation.log1p(Foundation.exp(z))
    case .sigmoid: return Activation.logistic(z)
    case .silu: return z * Activation.logistic(z)
    case .linear: return z
    case .silut(let t):
      if z < t { return z * Activation.logistic(z) }
      let (slope, offset) = Activation.silutContinuation(t)
      return Foundation.tanh(slope * (z - t)) + offset
    }
  }

  @inline(__always)
  func derivative(_ z: Double, output y: Double) -> Double {
    switch self {
    case .tanh: return 1 - y * y
    case .gelu:
      let t = Foundation.tanh(Activation.geluScale * (z + 0.044715 * z * z * z))
      return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * Activation.geluScale * (1 + 3 * 0.044715 * z * z)
    case .relu: return z > 0 ? 1 : 0
    case .relu6: return z > 0 && z < 6 ? 1 : 0
    case .softplus: return Activation.logistic(z)
    case .sigmoid: return y * (1 - y)
    case .silu:
      let s = Activation.logistic(z)
      return s + z * s * (1 - s)
    case .linear: return 1
    case .silut(let t):
      let s = Activation.logistic(z)
      if z < t { return s + z * s * (1 - s) }
      let (slope, _) = Activation.silutContinuation(t)
      let u = Foundation.tanh(slope * (z - t))
      return slope * (1 - u * u)
    }
  }

  /// (φ(z), φ'(z)) together: SiLU's logistic computed once (the backward passes need both).
  func valueAndDerivative(_ z: Double) -> (value: Double, derivative: Double) {
    switch self {
    case .silu:
      let s = Activation.logistic(z)
      return (z * s, s + z * s * (1 - s))
    case .silut(let t) where z < t:
      let s = Activation.logistic(z)
      return (z * s, s + z * s * (1 - s))
    default:
      let y = value(z)
      return (y, derivative(z, output: y))
    }
  }

  /// φ''(z), for tabulation (`dp compress` matches value, first and second derivative at the nodes);
  /// the same expressions as DeePMD-kit's `grad_grad`.
  func secondDerivative(_ z: Double, output y: Double) -> Double {
    switch self {
    case .tanh: return -2 * y * (1 - y * y)
    case .gelu:
      let a = 0.044715, c = Activation.geluScale
      let t = Foundation.tanh(c * (z + a * z * z * z))
      let inner = c * (1 - t * t) * (3 * a * z * z + 1)
      return 3 * a * c * z * z * (1 - t * t) - c * z * inner * (3 * a * z * z + 1) * t + inner
    case .relu, .relu6, .linear: return 0
    case .softplus:
      let s = Activation.logistic(z)
      return s * (1 - s)
    case .sigmoid: return y * (1 - y) * (1 - 2 * y)
    case .silu: return Activation.siluSecondDerivative(z)
    case .silut(let t):
      if z < t { return Activation.siluSecondDerivative(z) }
      let (slope, _) = Activation.silutContinuation(t)
      let u = Foundation.tanh(slope * (z - t))
      return -2 * slope * slope * u * (1 - u * u)
    }
  }

  private static func siluSecondDerivative(_ z: Double) -> Double {
    let s = logistic(z), ds = s * (1 - s)
    return 2 * ds + z * ds * (1 - 2 * s)
  }

  /// a = silu'(T) and c = silu(T), which make the tanh branch continue SiLU with C¹ contact.
  static func silutContinuation(_ t: Double) -> (Double, Double) {
    let s = logistic(t)
    return (s + t * s * (1 - s), t * s)
  }
}
