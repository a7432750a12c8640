import Geometry

/// `region ID block|prism …`: a box-shaped region, stored in box units.
public struct Region: Sendable {
  public var lo: SIMD3<Double>
  public var hi: SIMD3<Double>
  public var xy = 0.0, xz = 0.0, yz = 0.0
  public var isPrism = false

  /// The region as a box (for `create_box`).
  public var box: Box {
    Box(lo: lo, hi: hi, xy: xy, xz: xz, yz: yz, triclinic: isPrism)
  }

  public func contains(_ x: SIMD3<Double>) -> Bool {
    let lambda = box.fractional(x)
    for d in 0..<3 where lambda[d] < 0 || lambda[d] > 1 { return false }
    return true
  }
}
