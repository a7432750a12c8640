import Foundation
import Geometry
import Output

/// The variables of an AMBER-convention NetCDF trajectory for a list of `dump custom` fields, named as
/// LAMMPS's NETCDF package names them: x y z → `coordinates`, vx vy vz → `velocities`, fx fy fz →
/// `forces`, xs ys zs → `scaled_coordinates`, xu yu zu → `unwrapped_coordinates`; other fields (id, type,
/// mass, ix, iy, iz, c_ID) keep their names. Variables come in the order their first field was given.
public struct AmberLayout: Sendable {
  /// One per-atom variable: `[frame][atom]` for one field, `[frame][atom][spatial]` for a 3-vector.
  public struct Variable: Sendable {
    public var name: String
    /// The field of each column: one, or the x, y and z components.
    public var fields: [DumpField]
    public var isInteger: Bool
    /// LAMMPS's quantity for the `units` attribute.
    public var quantity: Quantity?
  }

  public enum Quantity: Sendable { case time, distance, velocity, force }

  public var variables: [Variable] = []
  /// `dump_modify double yes`: reals stored as NC_DOUBLE rather than LAMMPS's default NC_FLOAT.
  public var doublePrecision = false

  private static let vectors: [(name: String, fields: [DumpField], quantity: Quantity?)] = [
    ("coordinates", [.x, .y, .z], .distance),
    ("velocities", [.vx, .vy, .vz], .velocity),
    ("forces", [.fx, .fy, .fz], .force),
    ("scaled_coordinates", [.xs, .ys, .zs], nil),
    ("unwrapped_coordinates", [.xu, .yu, .zu], .distance),
  ]

  /// `fields[k]` is named `names[k]` in the deck (`c_pe` for the energy field). A 3-vector needs all
  /// three of its components (LAMMPS would leave the missing ones at the fill value).
  public init(fields: [DumpField], names: [String]) throws {
    for (field, name) in zip(fields, names) {
      if field == .element {
        throw AmberLayoutError("'element': a NetCDF dump stores no strings (as LAMMPS's)")
      }
      if let vector = Self.vectors.first(where: { $0.fields.contains(field) }) {
        if variables.contains(where: { $0.name == vector.name }) { continue }
        let missing = vector.fields.filter { !fields.contains($0) }
        guard missing.isEmpty else {
          throw AmberLayoutError("'\(name)' is part of '\(vector.name)': give \(vector.fields.map(\.rawValue).joined(separator: " ")) together")
        }
        variables.append(Variable(name: vector.name, fields: vector.fields, isInteger: false, quantity: vector.quantity))
        continue
      }
      guard !variables.contains(where: { $0.name == name }) else { throw AmberLayoutError("'\(name)' given twice") }
      variables.append(Variable(name: name, fields: [field], isInteger: [.id, .type, .ix, .iy, .iz].contains(field),
                                quantity: nil))
    }
    guard !variables.isEmpty else { throw AmberLayoutError("a NetCDF dump needs at least one field") }
  }

  /// The `units` attribute LAMMPS writes for a quantity in a unit style (`lj` for every quantity of lj units).
  public static func unit(_ quantity: Quantity, style: String) -> String {
    if style == "lj" { return "lj" }
    switch quantity {
    case .time: return "picosecond"
    case .distance: return "angstrom"
    case .velocity: return "angstrom/picosecond"
    case .force: return "eV/angstrom"
    }
  }
}

/// A frame's cell as the AMBER convention stores it: origin, edge lengths a b c and angles α β γ in
/// degrees, from LAMMPS's restricted triclinic box; a non-periodic direction has length 0.
public struct AmberCell: Equatable, Sendable {
  public var origin: [Double]
  public var lengths: [Double]
  public var angles: [Double]

  public init(_ box: Box) {
    origin = [box.lo.x, box.lo.y, box.lo.z]
    let l = box.length
    if box.isTriclinic {
      let b = (l.y * l.y + box.xy * box.xy).squareRoot()
      let c = (l.z * l.z + box.yz * box.yz + box.xz * box.xz).squareRoot()
      let degrees = 180 / Double.pi
      lengths = [l.x, b, c]
      angles = [acos((box.xy * box.xz + l.y * box.yz) / (b * c)) * degrees, acos(box.xz / c) * degrees,
                acos(box.xy / b) * degrees]
    } else {
      lengths = [l.x, l.y, l.z]
      angles = [90, 90, 90]
    }
    for k in 0..<3 where !box.periodic[k] { lengths[k] = 0 }
  }
}

public struct AmberLayoutError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
