import Foundation
import Geometry

/// What a dump writes per atom and how (LAMMPS `dump atom|custom|xyz`; extended XYZ is written
/// through the Trajectory module, H5MD by every rank through the H5MD module).
public enum DumpStyle: Sendable {
  case atom
  case custom([DumpField])
  case xyz
  case extendedXYZ
  case h5md
  /// AMBER-convention NetCDF, written by rank 0 (`netcdf`) or collectively by every rank (`netcdf/mpiio`).
  case netcdf(fields: [DumpField], parallel: Bool)
}

/// A `dump custom` column.
public enum DumpField: String, Sendable, CaseIterable {
  case id, type, element, mass
  case x, y, z, xs, ys, zs, xu, yu, zu, ix, iy, iz
  case vx, vy, vz, fx, fy, fz
  /// Per-atom potential energy (`c_ID` of a `compute ID all pe/atom`).
  case energy

  var isInteger: Bool { [.id, .type, .ix, .iy, .iz].contains(self) }
  var isString: Bool { self == .element }
}

/// Number formats as `dump_modify format`: LAMMPS's defaults are `%d` and `%g`.
public struct DumpNumberFormat: Sendable {
  public var integer = "%d"
  public var float = "%g"
  /// A whole line's format (`format line`), one conversion per column.
  public var line: [String]?
  public init() {}
}

extension GatheredAtoms {
  /// LAMMPS's `ITEM: BOX BOUNDS` block: orthogonal bounds, or for triclinic boxes the bounding box
  /// of the parallelepiped followed by the tilt factors (what OVITO and ASE read back).
  func boxBounds() -> String {
    let b = box
    let flags = (0..<3).map { b.periodic[$0] ? "pp" : "ff" }.joined(separator: " ")
    if !b.isTriclinic {
      return "ITEM: BOX BOUNDS \(flags)\n" + (0..<3).map {
        String(format: "%-1.16e %-1.16e\n", b.lo[$0], b.hi[$0])
      }.joined()
    }
    let (lo, hi) = boundingBox()
    return "ITEM: BOX BOUNDS xy xz yz \(flags)\n"
      + String(format: "%-1.16e %-1.16e %-1.16e\n", lo[0], hi[0], b.xy)
      + String(format: "%-1.16e %-1.16e %-1.16e\n", lo[1], hi[1], b.xz)
      + String(format: "%-1.16e %-1.16e %-1.16e\n", lo[2], hi[2], b.yz)
  }

  /// The bounding box of a tilted box, added up in LAMMPS's order (Domain::set_global_box), so that
  /// binary headers match LAMMPS's to the bit.
  func boundingBox() -> (lo: [Double], hi: [Double]) {
    let b = box
    var xlo = min(b.lo.x, b.lo.x + b.xy), xhi = max(b.hi.x, b.hi.x + b.xy)
    xlo = min(xlo, xlo + b.xz)
    xhi = max(xhi, xhi + b.xz)
    return ([xlo, min(b.lo.y, b.lo.y + b.yz), b.lo.z], [xhi, max(b.hi.y, b.hi.y + b.yz), b.hi.z])
  }

  private func header(_ columns: String) -> String {
    "ITEM: TIMESTEP\n\(step)\nITEM: NUMBER OF ATOMS\n\(count)\n" + boxBounds() + "ITEM: ATOMS \(columns)\n"
  }

  /// Atom `i`'s value of a field (integers as doubles; 0 for `element`).
  public func value(_ field: DumpField, _ i: Int) -> Double {
    let r = SIMD3(positions[3 * i], positions[3 * i + 1], positions[3 * i + 2])
    let image = SIMD3(images[3 * i], images[3 * i + 1], images[3 * i + 2])
    switch field {
    case .id: return Double(ids[i])
    case .type: return Double(types[i])
    case .element: return 0
    case .mass: return masses[i]
    case .x, .y, .z: return r[field == .x ? 0 : field == .y ? 1 : 2]
    case .xs, .ys, .zs: return box.fractional(r)[field == .xs ? 0 : field == .ys ? 1 : 2]
    case .xu, .yu, .zu: return box.unwrapped(r, image: image)[field == .xu ? 0 : field == .yu ? 1 : 2]
    case .ix, .iy, .iz: return Double(image[field == .ix ? 0 : field == .iy ? 1 : 2])
    case .vx, .vy, .vz: return velocities[3 * i + (field == .vx ? 0 : field == .vy ? 1 : 2)]
    case .fx, .fy, .fz: return forces[3 * i + (field == .fx ? 0 : field == .fy ? 1 : 2)]
    case .energy: return energies?[i] ?? 0
    }
  }

  /// The frame as LAMMPS writes it for `dump atom` (scaled coordinates) and `dump custom`.
  public func formatted(_ fields: [DumpField], names: [String], elements: [String], format: DumpNumberFormat) -> String {
    let specs = fields.enumerated().map { k, field -> [CChar] in
      Array((format.line?[k] ?? (field.isString ? "%s" : field.isInteger ? format.integer : format.float)).utf8CString)
    }
    var text = PrintfText(reservingCapacity: count * fields.count * 14 + 512)
    text.append(header(names.joined(separator: " ")))
    for i in 0..<count {
      for (k, field) in fields.enumerated() {
        if k > 0 { text.append(byte: 0x20) }
        if field.isString {
          text.append(element(Int(types[i]), elements))
        } else if field.isInteger {
          text.append(specs[k], Int(value(field, i)))
        } else {
          text.append(specs[k], value(field, i))
        }
      }
      text.append(byte: 0x0A)
    }
    return text.string
  }

  /// `dump xyz`: count, a comment line, then element (or type) and position per atom.
  public func formattedXYZ(elements: [String], format: DumpNumberFormat) -> String {
    let spec = Array(format.float.utf8CString)
    var text = PrintfText(reservingCapacity: count * 48 + 64)
    text.append("\(count)\nAtoms. Timestep: \(step)\n")
    for i in 0..<count {
      text.append(element(Int(types[i]), elements))
      for c in 0..<3 {
        text.append(byte: 0x20)
        text.append(spec, positions[3 * i + c])
      }
      text.append(byte: 0x0A)
    }
    return text.string
  }

  /// The element name of a type (`dump_modify element`), or the type number.
  public func element(_ type: Int, _ elements: [String]) -> String {
    type >= 1 && type <= elements.count ? elements[type - 1] : "\(type)"
  }
}
