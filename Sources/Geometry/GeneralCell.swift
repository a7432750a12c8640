/// A periodic cell given by three arbitrary lattice vectors (ASE's `cell`, DeePMD-kit's `box`), carried
/// into the orientation `Box` holds — a along x, b in the xy plane, c with positive z — by an
/// orthogonal map Q, as LAMMPS's `Domain::general_to_restricted_rotation` does for `create_box` with a
/// general triclinic cell. Q is a rotation for a right-handed cell; a left-handed cell also has its
/// third axis reversed. Q keeps distances, so what is near what (a neighbour list) is the same in
/// both frames; a cell already in `Box`'s orientation has Q = identity exactly.
public struct GeneralCell: Sendable {
  /// The cell in `Box`'s orientation, periodic in all three dimensions, origin at zero.
  public let box: Box
  /// Rows of Q: the axes of the box's frame in the original coordinates.
  @usableFromInline let axes: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>)

  /// `vectors`: the three lattice vectors as rows (9 numbers). Nil for a flat or non-finite cell.
  public init?(vectors h: [Double]) {
    guard h.count == 9, h.allSatisfy(\.isFinite) else { return nil }
    let a = SIMD3(h[0], h[1], h[2]), b = SIMD3(h[3], h[4], h[5]), c = SIMD3(h[6], h[7], h[8])
    let volume = dot(a, cross(b, c))
    guard abs(volume) > 1e-12 else { return nil }
    let lx = dot(a, a).squareRoot()
    let e1 = a / lx
    let xy = dot(b, e1)
    let inPlane = b - xy * e1
    let ly = dot(inPlane, inPlane).squareRoot()
    let e2 = inPlane / ly
    let e3 = (volume > 0 ? 1 : -1) * cross(e1, e2)
    axes = (e1, e2, e3)
    box = Box(lo: .zero, hi: SIMD3(lx, ly, dot(c, e3)), xy: xy, xz: dot(c, e1), yz: dot(c, e2))
  }

  /// A point or vector of the original frame in the box's frame (Q x).
  @inlinable
  public func toBox(_ x: SIMD3<Double>) -> SIMD3<Double> { SIMD3(dot(x, axes.0), dot(x, axes.1), dot(x, axes.2)) }
}
