/// A simulation box with LAMMPS's conventions.
///
/// The three edge vectors are a = (lx, 0, 0), b = (xy, ly, 0), c = (xz, yz, lz): the columns of the upper
/// triangular matrix h. A point is `lo + h·λ` with fractional coordinates λ ∈ [0, 1) inside the box.
/// Orthogonal boxes are the special case xy = xz = yz = 0.
public struct Box: Sendable, Equatable {
  public var lo: SIMD3<Double>
  public var length: SIMD3<Double>
  /// Tilt factors xy, xz, yz (zero for an orthogonal box).
  public var xy: Double
  public var xz: Double
  public var yz: Double
  /// `true` for `p`, `false` for `f` per dimension.
  public var periodic: [Bool]
  /// Whether the deck declared a triclinic box (LAMMPS prints and dumps tilts only then).
  public var isTriclinic: Bool

  public init(lo: SIMD3<Double>, hi: SIMD3<Double>, xy: Double = 0, xz: Double = 0, yz: Double = 0,
              periodic: [Bool] = [true, true, true], triclinic: Bool? = nil) {
    self.lo = lo
    self.length = hi - lo
    self.xy = xy
    self.xz = xz
    self.yz = yz
    self.periodic = periodic
    self.isTriclinic = triclinic ?? (xy != 0 || xz != 0 || yz != 0)
  }

  public var hi: SIMD3<Double> { lo + length }
  public var volume: Double { length.x * length.y * length.z }

  /// Cartesian displacement for fractional displacement `d` (h·d).
  @inlinable
  public func cartesian(fromFractional d: SIMD3<Double>) -> SIMD3<Double> {
    SIMD3(length.x * d.x + xy * d.y + xz * d.z, length.y * d.y + yz * d.z, length.z * d.z)
  }

  /// Fractional coordinates λ of a Cartesian point (h⁻¹·(x − lo)); back-substitution of the
  /// triangular system.
  @inlinable
  public func fractional(_ x: SIMD3<Double>) -> SIMD3<Double> {
    let d = x - lo
    let lz = d.z / length.z
    let ly = (d.y - yz * lz) / length.y
    let lx = (d.x - xy * ly - xz * lz) / length.x
    return SIMD3(lx, ly, lz)
  }

  /// Fractional displacement for a Cartesian displacement (no origin shift).
  @inlinable
  public func fractionalDisplacement(_ d: SIMD3<Double>) -> SIMD3<Double> {
    let lz = d.z / length.z
    let ly = (d.y - yz * lz) / length.y
    let lx = (d.x - xy * ly - xz * lz) / length.x
    return SIMD3(lx, ly, lz)
  }

  /// The periodic translation by image (i, j, k): i·a + j·b + k·c.
  @inlinable
  public func translation(_ image: SIMD3<Double>) -> SIMD3<Double> { cartesian(fromFractional: image) }

  /// The eight corners in LAMMPS's `Domain::box_corners` order: λ = 000, 100, 010, 110, 001, 101, 011, 111.
  public var corners: InlineArray<8, SIMD3<Double>> {
    InlineArray { (k: Int) -> SIMD3<Double> in
      let lambda = SIMD3<Double>(Double(k & 1), Double((k >> 1) & 1), Double((k >> 2) & 1))
      return lo + cartesian(fromFractional: lambda)
    }
  }

  /// Distance between the two faces of the box that are crossed when moving along dimension d:
  /// volume divided by the area spanned by the other two edge vectors. A cutoff `rc` corresponds to
  /// `rc / faceDistance[d]` in fractional units along d (LAMMPS's triclinic `cutghost`).
  public var faceDistance: SIMD3<Double> {
    let a = SIMD3(length.x, 0, 0)
    let b = SIMD3(xy, length.y, 0)
    let c = SIMD3(xz, yz, length.z)
    func norm(_ v: SIMD3<Double>) -> Double { (v * v).sum().squareRoot() }
    return SIMD3(volume / norm(cross(b, c)), volume / norm(cross(c, a)), volume / norm(cross(a, b)))
  }

  /// Wraps a point into the periodic box and counts the box vectors crossed in `image`, as LAMMPS's
  /// `Domain::remap`. Non-periodic dimensions are left alone.
  @inlinable
  public func wrap(_ x: inout SIMD3<Double>, image: inout SIMD3<Int32>) {
    var lambda = fractional(x)
    var shift = SIMD3<Double>(repeating: 0)
    for d in 0..<3 where periodic[d] {
      let n = (lambda[d]).rounded(.down)
      if n != 0 {
        shift[d] = n
        lambda[d] -= n
        image[d] &+= Int32(n)
      }
      // Round-off can leave λ == 1 after subtracting; keep the half-open interval [0, 1).
      if lambda[d] >= 1 { lambda[d] -= 1; shift[d] += 1; image[d] &+= 1 }
    }
    if shift != .zero { x -= cartesian(fromFractional: shift) }
  }

  /// Minimum-image convention for a Cartesian displacement (valid when the cutoff is below half of
  /// every face distance; the halo never relies on it).
  @inlinable
  public func minimumImage(_ d: SIMD3<Double>) -> SIMD3<Double> {
    var f = fractionalDisplacement(d)
    for k in 0..<3 where periodic[k] { f[k] -= f[k].rounded(.toNearestOrEven) }
    return cartesian(fromFractional: f)
  }

  /// Unwrapped position from a wrapped one and its image flags (LAMMPS `xu yu zu`).
  @inlinable
  public func unwrapped(_ x: SIMD3<Double>, image: SIMD3<Int32>) -> SIMD3<Double> {
    x + cartesian(fromFractional: SIMD3<Double>(Double(image.x), Double(image.y), Double(image.z)))
  }
}

@inlinable
public func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
  SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

@inlinable
public func dot(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double { (a * b).sum() }
