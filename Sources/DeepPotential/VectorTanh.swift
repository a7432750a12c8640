/// tanh of a vector of Doubles (4 or 8 lanes) at once, without branches, within a few ulp of the
/// correctly rounded result over the whole range (the activation of almost every DeePMD-kit
/// network; `Foundation.tanh` is scalar and several times slower).
///
/// tanh|x| = e / (e + 2) with e = expm1(2|x|): one division, and no cancellation for small |x|.
/// expm1 uses the usual reduction 2|x| = n·ln2 + r, |r| ≤ ln2/2, so expm1 = 2ⁿ·expm1(r) + (2ⁿ − 1),
/// with expm1(r) from its Taylor series to r¹³ (truncation below 2⁻⁵⁶ relative) summed by Estrin's
/// scheme: the evaluation is latency-bound, and Estrin's tree is 4 multiply-adds deep where Horner's
/// chain is 12; eight lanes (two registers) give the core two independent chains. Above |x| = 20, tanh rounds to ±1, so the input is clamped there, which also keeps
/// 2ⁿ finite; NaN passes through.
@inline(__always)
func vectorTanh<V: TanhLanes>(_ x: V) -> V {
  let bits = unsafeBitCast(x, to: V.MaskStorage.self)
  let sign = bits & Int64.min
  var magnitude = unsafeBitCast(bits & Int64.max, to: V.self)
  magnitude = magnitude.clamped(above: 20)
  let y = magnitude + magnitude
  // Adding 1.5·2⁵² rounds y/ln2 to the nearest integer n and leaves n in the low mantissa bits.
  let shifter = V(repeating: 0x1.8p52)
  let shifted = shifter.addingProduct(y, V(repeating: 1.4426950408889634))
  let n = shifted - shifter
  // ln2 split so that n·ln2High is exact for |n| < 2²⁰; r = y − n·ln2 to well below an ulp.
  var r = y.addingProduct(-n, V(repeating: 6.93147180369123816490e-01))
  r = r.addingProduct(-n, V(repeating: 1.90821492927058770002e-10))
  // expm1(r) = r + r²·Σ_{k=0…11} r^k/(k+2)!, the sum as pairs, pairs of pairs, then r⁴ and r⁸.
  let r2 = r * r, r4 = r2 * r2, r8 = r4 * r4
  let p01 = V(repeating: 1.0 / 2).addingProduct(r, V(repeating: 1.0 / 6))
  let p23 = V(repeating: 1.0 / 24).addingProduct(r, V(repeating: 1.0 / 120))
  let p45 = V(repeating: 1.0 / 720).addingProduct(r, V(repeating: 1.0 / 5040))
  let p67 = V(repeating: 1.0 / 40320).addingProduct(r, V(repeating: 1.0 / 362880))
  let p89 = V(repeating: 1.0 / 3628800).addingProduct(r, V(repeating: 1.0 / 39916800))
  let p1011 = V(repeating: 1.0 / 479001600).addingProduct(r, V(repeating: 1.0 / 6227020800))
  let q0 = p01.addingProduct(r2, p23), q1 = p45.addingProduct(r2, p67), q2 = p89.addingProduct(r2, p1011)
  let series = q0.addingProduct(r4, q1.addingProduct(r4, q2))
  let expm1R = r.addingProduct(r2, series)
  // 2ⁿ from the exponent bits: the low bits of `shifted` hold n (two's complement).
  let powerBits = (unsafeBitCast(shifted, to: V.MaskStorage.self) &<< 52) &+ 0x3FF0_0000_0000_0000
  let power = unsafeBitCast(powerBits, to: V.self)
  let e = (power - 1).addingProduct(power, expm1R)
  let magnitudeResult = e / (e + 2)
  return unsafeBitCast(unsafeBitCast(magnitudeResult, to: V.MaskStorage.self) | sign, to: V.self)
}

/// The vectors `vectorTanh` takes. Comparisons of eight Double lanes are not vectorised by the
/// compiler, so the clamp goes through the four-lane halves.
protocol TanhLanes: SIMD where Scalar == Double, MaskStorage.Scalar == Int64 {
  /// Each lane min(lane, limit), NaN kept.
  func clamped(above limit: Double) -> Self
}

extension SIMD4: TanhLanes where Scalar == Double {
  @inline(__always)
  func clamped(above limit: Double) -> Self {
    var v = self
    v.replace(with: limit, where: v .> limit)
    return v
  }
}

extension SIMD8: TanhLanes where Scalar == Double {
  @inline(__always)
  func clamped(above limit: Double) -> Self {
    SIMD8(lowHalf: lowHalf.clamped(above: limit), highHalf: highHalf.clamped(above: limit))
  }
}
