import Geometry

/// `lattice sc|bcc|fcc|diamond SCALE [origin X Y Z]`: a cubic lattice with unit cell edge `constant`,
/// shifted by `origin` cell edges.
/// As in LAMMPS, SCALE is the lattice constant in `metal` units and the reduced number density in
/// `lj` units (constant = (basis atoms / density)^(1/3)).
public struct Lattice: Sendable {
  public var style: String
  public var constant: Double
  /// Basis positions in units of the cell edge.
  public var basis: [SIMD3<Double>]
  /// The shift of every lattice point in units of the cell edge, each in [0, 1) (LAMMPS's `origin`).
  public var origin = SIMD3<Double>.zero

  public static let bases: [String: [SIMD3<Double>]] = [
    "sc": [SIMD3(0, 0, 0)],
    "bcc": [SIMD3(0, 0, 0), SIMD3(0.5, 0.5, 0.5)],
    "fcc": [SIMD3(0, 0, 0), SIMD3(0.5, 0.5, 0), SIMD3(0.5, 0, 0.5), SIMD3(0, 0.5, 0.5)],
    "diamond": [SIMD3(0, 0, 0), SIMD3(0, 0.5, 0.5), SIMD3(0.5, 0, 0.5), SIMD3(0.5, 0.5, 0),
                SIMD3(0.25, 0.25, 0.25), SIMD3(0.25, 0.75, 0.75), SIMD3(0.75, 0.25, 0.75), SIMD3(0.75, 0.75, 0.25)],
  ]

  public init?(style: String, scale: Double, units: UnitSystem) {
    guard let basis = Self.bases[style], scale > 0 else { return nil }
    self.style = style
    self.basis = basis
    constant = units.name == "lj" ? pow(Double(basis.count) / scale, 1.0 / 3.0) : scale
  }
}

#if canImport(Glibc)
import Glibc
#endif
