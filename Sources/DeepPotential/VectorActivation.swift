/// The activation over a run of values, four lanes at a time for tanh, SiLU and silut (the
/// message-passing layers apply it to every edge's and every angle pair's outputs, where the
/// scalar `Foundation.exp` / `tanh` would cost more than the products). SiLU's logistic is
/// ½ + ½·tanh(z/2), through `vectorTanh`, within a few ulp of 1 / (1 + e^−z) for every z (for
/// z ≪ 0 the error is that many ulp of ½, absolute, where the value itself is below it); the
/// other activations go through the scalar functions.
extension Activation {
  /// φ(z) in place.
  func apply(_ z: UnsafeMutablePointer<Double>, count: Int) {
    switch self {
    case .tanh, .silu, .silut:
      var i = 0
      while i + 4 <= count {
        let v = SIMD4(z[i], z[i + 1], z[i + 2], z[i + 3])
        let y = lanes(v).value
        for l in 0..<4 { z[i + l] = y[l] }
        i += 4
      }
      for r in i..<count { z[r] = value(z[r]) }
    default:
      for r in 0..<count { z[r] = value(z[r]) }
    }
  }

  /// φ(z) into `values` and φ'(z) into `slopes` (either may be z itself: z is read first).
  func apply(_ z: UnsafePointer<Double>, values: UnsafeMutablePointer<Double>, slopes: UnsafeMutablePointer<Double>,
             count: Int) {
    switch self {
    case .tanh, .silu, .silut:
      var i = 0
      while i + 4 <= count {
        let v = SIMD4(z[i], z[i + 1], z[i + 2], z[i + 3])
        let (y, dy) = lanes(v)
        for l in 0..<4 { values[i + l] = y[l]; slopes[i + l] = dy[l] }
        i += 4
      }
      for r in i..<count { (values[r], slopes[r]) = valueAndDerivative(z[r]) }
    default:
      for r in 0..<count { (values[r], slopes[r]) = valueAndDerivative(z[r]) }
    }
  }

  @inline(__always)
  private func lanes(_ z: SIMD4<Double>) -> (value: SIMD4<Double>, slope: SIMD4<Double>) {
    switch self {
    case .tanh:
      let y = vectorTanh(z)
      return (y, 1 - y * y)
    case .silu:
      return Activation.siluLanes(z)
    case .silut(let t):
      var (y, dy) = Activation.siluLanes(z)
      let above = z .>= SIMD4(repeating: t)
      if any(above) {
        let (slope, offset) = Activation.silutContinuation(t)
        let u = vectorTanh(slope * (z - SIMD4(repeating: t)))
        y.replace(with: u + SIMD4(repeating: offset), where: above)
        dy.replace(with: slope * (1 - u * u), where: above)
      }
      return (y, dy)
    default:
      fatalError("no vector form of \(self)")
    }
  }

  @inline(__always)
  private static func siluLanes(_ z: SIMD4<Double>) -> (SIMD4<Double>, SIMD4<Double>) {
    let s = 0.5 + 0.5 * vectorTanh(0.5 * z)
    return (z * s, s + z * s * (1 - s))
  }
}
