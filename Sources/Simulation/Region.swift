import Geometry

/// `region ID STYLE …`: a set of points, stored in box units — LAMMPS's `block`, `prism`, `sphere`,
/// `cylinder`, `plane`, `union` and `intersect`, with `side out` taking the complement. Points on a
/// surface are inside, as in LAMMPS.
public struct Region: Sendable {
  public indirect enum Shape: Sendable {
    /// Bounds may be infinite (`INF`).
    case block(lo: SIMD3<Double>, hi: SIMD3<Double>)
    case prism(Box)
    case sphere(center: SIMD3<Double>, radius: Double)
    /// Along `axis` (0, 1, 2) between `lo` and `hi`, around the point `center` of the other two
    /// coordinates (in their order: y z for x, x z for y, x y for z).
    case cylinder(axis: Int, center: SIMD2<Double>, radius: Double, lo: Double, hi: Double)
    /// The half-space the unit `normal` points into from `point`.
    case plane(point: SIMD3<Double>, normal: SIMD3<Double>)
    case union([Region])
    case intersect([Region])
  }

  public var shape: Shape
  /// `side out`: the points outside the shape.
  public var outside = false

  public init(_ shape: Shape, outside: Bool = false) {
    self.shape = shape
    self.outside = outside
  }

  /// The region as a box (for `create_box`): blocks with finite bounds and prisms only.
  public var box: Box? {
    guard !outside else { return nil }
    switch shape {
    case .block(let lo, let hi):
      guard (0..<3).allSatisfy({ lo[$0].isFinite && hi[$0].isFinite }) else { return nil }
      return Box(lo: lo, hi: hi)
    case .prism(let b): return b
    default: return nil
    }
  }

  public func contains(_ x: SIMD3<Double>) -> Bool { shapeContains(x) != outside }

  private func shapeContains(_ x: SIMD3<Double>) -> Bool {
    switch shape {
    case .block(let lo, let hi):
      return (0..<3).allSatisfy { x[$0] >= lo[$0] && x[$0] <= hi[$0] }
    case .prism(let b):
      // Through the inverse of h, as LAMMPS's RegPrism (not back-substitution as Box.fractional):
      // lattice points on a face then round to the same side as there.
      let h = b.length, d = x - b.lo
      let a = (1 / h.x) * d.x + (-b.xy / (h.x * h.y)) * d.y + ((b.xy * b.yz - h.y * b.xz) / (h.x * h.y * h.z)) * d.z
      let bb = (1 / h.y) * d.y + (-b.yz / (h.y * h.z)) * d.z
      let c = (1 / h.z) * d.z
      return a >= 0 && a <= 1 && bb >= 0 && bb <= 1 && c >= 0 && c <= 1
    case .sphere(let center, let radius):
      let d = x - center
      return (d * d).sum().squareRoot() <= radius
    case .cylinder(let axis, let center, let radius, let lo, let hi):
      let others = axis == 0 ? (1, 2) : axis == 1 ? (0, 2) : (0, 1)
      let d = SIMD2(x[others.0], x[others.1]) - center
      return (d * d).sum().squareRoot() <= radius && x[axis] >= lo && x[axis] <= hi
    case .plane(let point, let normal):
      return ((x - point) * normal).sum() >= 0
    case .union(let members): return members.contains { $0.contains(x) }
    case .intersect(let members): return members.allSatisfy { $0.contains(x) }
    }
  }
}
