/// tanh of four lanes at once, without branches, within a few ulp of the correctly rounded result
/// over the whole range (the activation of almost every DeePMD-kit network; `Foundation.tanh` is
/// scalar and several times slower).
///
/// tanh|x| = e / (e + 2) with e = expm1(2|x|), which has no cancellation for small |x|. expm1 uses
/// the usual reduction 2|x| = n·ln2 + r, |r| ≤ ln2/2, so expm1 = 2ⁿ·expm1(r) + (2ⁿ − 1), with
/// expm1(r) from its Taylor series to r¹³ (truncation below 2⁻⁵⁶ relative). Above |x| = 20, tanh
/// rounds to ±1, so the input is clamped there, which also keeps 2ⁿ finite; NaN passes through.
@inline(__always)
func vectorTanh(_ x: SIMD4<Double>) -> SIMD4<Double> {
  let bits = unsafeBitCast(x, to: SIMD4<UInt64>.self)
  let sign = bits & 0x8000_0000_0000_0000
  var magnitude = unsafeBitCast(bits & 0x7FFF_FFFF_FFFF_FFFF, to: SIMD4<Double>.self)
  magnitude.replace(with: 20, where: magnitude .> 20)
  let y = magnitude + magnitude
  // Adding 1.5·2⁵² rounds y/ln2 to the nearest integer n and leaves n in the low mantissa bits.
  let shifter = SIMD4<Double>(repeating: 0x1.8p52)
  let shifted = shifter.addingProduct(y, SIMD4(repeating: 1.4426950408889634))
  let n = shifted - shifter
  // ln2 split so that n·ln2High is exact for |n| < 2²⁰; r = y − n·ln2 to well below an ulp.
  var r = y.addingProduct(-n, SIMD4(repeating: 6.93147180369123816490e-01))
  r = r.addingProduct(-n, SIMD4(repeating: 1.90821492927058770002e-10))
  // expm1(r) = r + r²·(1/2! + r/3! + … + r¹¹/13!)
  var series = SIMD4<Double>(repeating: 1.0 / 6227020800)
  series = SIMD4(repeating: 1.0 / 479001600).addingProduct(series, r)
  series = SIMD4(repeating: 1.0 / 39916800).addingProduct(series, r)
  series = SIMD4(repeating: 1.0 / 3628800).addingProduct(series, r)
  series = SIMD4(repeating: 1.0 / 362880).addingProduct(series, r)
  series = SIMD4(repeating: 1.0 / 40320).addingProduct(series, r)
  series = SIMD4(repeating: 1.0 / 5040).addingProduct(series, r)
  series = SIMD4(repeating: 1.0 / 720).addingProduct(series, r)
  series = SIMD4(repeating: 1.0 / 120).addingProduct(series, r)
  series = SIMD4(repeating: 1.0 / 24).addingProduct(series, r)
  series = SIMD4(repeating: 1.0 / 6).addingProduct(series, r)
  series = SIMD4(repeating: 0.5).addingProduct(series, r)
  let expm1R = r.addingProduct(r * r, series)
  // 2ⁿ from the exponent bits: the low bits of `shifted` hold n (two's complement).
  let powerBits = (unsafeBitCast(shifted, to: SIMD4<UInt64>.self) &<< 52) &+ 0x3FF0_0000_0000_0000
  let power = unsafeBitCast(powerBits, to: SIMD4<Double>.self)
  let e = (power - 1).addingProduct(power, expm1R)
  var magnitudeResult = 1 - 2 / (e + 2)
  // Small |x|: Cephes' rational correction, x + x·z·P(z)/Q(z) with z = x², is a small change to x.
  let z = magnitude * magnitude
  var p = SIMD4<Double>(repeating: -9.64399179425052238628e-1)
  p = SIMD4(repeating: -9.92877231001918586564e1).addingProduct(p, z)
  p = SIMD4(repeating: -1.61468768441708447952e3).addingProduct(p, z)
  var q = z + 1.12811678491632931402e2
  q = SIMD4(repeating: 2.23548839060100448583e3).addingProduct(q, z)
  q = SIMD4(repeating: 4.84406305325125486048e3).addingProduct(q, z)
  let small = magnitude.addingProduct(magnitude * z, p / q)
  magnitudeResult.replace(with: small, where: magnitude .< 0.625)
  return unsafeBitCast(unsafeBitCast(magnitudeResult, to: SIMD4<UInt64>.self) | sign, to: SIMD4<Double>.self)
}
