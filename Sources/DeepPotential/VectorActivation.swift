import Foundation

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
    case .tanh: Activation.lanes(z, values: z, slopes: nil, count: count) { let y = vectorTanh($0); return (y, y) }
    case .silu: Activation.lanes(z, values: z, slopes: nil, count: count) { ($0 * Activation.logisticLanes($0), $0) }
    case .silut(let t):
      let (slope, offset) = Activation.silutContinuation(t)
      Activation.lanes(z, values: z, slopes: nil, count: count) {
        var y = $0 * Activation.logisticLanes($0)
        if Activation.largest($0) >= t {
          for l in 0..<4 where $0[l] >= t { y[l] = Foundation.tanh(slope * ($0[l] - t)) + offset }
        }
        return (y, y)
      }
    default:
      for r in 0..<count { z[r] = value(z[r]) }
    }
  }

  /// φ(z) into `values` and φ'(z) into `slopes` (either may be z itself: z is read first).
  func apply(_ z: UnsafePointer<Double>, values: UnsafeMutablePointer<Double>, slopes: UnsafeMutablePointer<Double>,
             count: Int) {
    switch self {
    case .tanh: Activation.lanes(z, values: values, slopes: slopes, count: count) { let y = vectorTanh($0); return (y, 1 - y * y) }
    case .silu: Activation.lanes(z, values: values, slopes: slopes, count: count) { Activation.siluLanes($0) }
    case .silut(let t):
      let (slope, offset) = Activation.silutContinuation(t)
      Activation.lanes(z, values: values, slopes: slopes, count: count) { Activation.silutLanes($0, t, slope, offset) }
    default:
      for r in 0..<count { (values[r], slopes[r]) = valueAndDerivative(z[r]) }
    }
  }

  /// f over `count` values, four lanes at a time, the tail padded: f's value to `values`, its
  /// slope to `slopes` when given.
  @inline(__always)
  private static func lanes(_ z: UnsafePointer<Double>, values: UnsafeMutablePointer<Double>,
                            slopes: UnsafeMutablePointer<Double>?, count: Int,
                            _ f: (SIMD4<Double>) -> (SIMD4<Double>, SIMD4<Double>)) {
    var i = 0
    while i + 4 <= count {
      let v = UnsafeRawPointer(z + i).loadUnaligned(as: SIMD4<Double>.self)
      let (y, dy) = f(v)
      UnsafeMutableRawPointer(values + i).storeBytes(of: y, as: SIMD4<Double>.self)
      if let slopes { UnsafeMutableRawPointer(slopes + i).storeBytes(of: dy, as: SIMD4<Double>.self) }
      i += 4
    }
    guard i < count else { return }
    var v = SIMD4<Double>(repeating: 0)
    for l in 0..<count - i { v[l] = z[i + l] }
    let (y, dy) = f(v)
    for l in 0..<count - i {
      values[i + l] = y[l]
      slopes?[i + l] = dy[l]
    }
  }

  @inline(__always)
  private static func logisticLanes(_ z: SIMD4<Double>) -> SIMD4<Double> { 0.5 + 0.5 * vectorTanh(0.5 * z) }

  @inline(__always)
  private static func siluLanes(_ z: SIMD4<Double>) -> (SIMD4<Double>, SIMD4<Double>) {
    let s = logisticLanes(z)
    return (z * s, s + z * s * (1 - s))
  }

  /// SiLU below t, tanh(slope·(z − t)) + offset above.
  @inline(__always)
  private static func silutLanes(_ z: SIMD4<Double>, _ t: Double, _ slope: Double, _ offset: Double)
    -> (SIMD4<Double>, SIMD4<Double>) {
    var (y, dy) = siluLanes(z)
    if largest(z) >= t {
      for l in 0..<4 where z[l] >= t {
        let u = Foundation.tanh(slope * (z[l] - t))
        y[l] = u + offset
        dy[l] = slope * (1 - u * u)
      }
    }
    return (y, dy)
  }

  /// The largest lane, by scalar comparisons: a lane-wise `.>=` on SIMD4<Double> is compiled lane
  /// by lane through memory (a store-forwarding stall that cost more than the whole tanh).
  @inline(__always)
  private static func largest(_ z: SIMD4<Double>) -> Double { Swift.max(Swift.max(z[0], z[1]), Swift.max(z[2], z[3])) }
}
