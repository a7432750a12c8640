import Foundation

/// A thermo keyword's column: its header and whether it prints as an integer.
public struct ThermoColumn: Sendable {
  public var keyword: String
  public var header: String
  public var isInteger: Bool

  public init(keyword: String, header: String, isInteger: Bool) {
    self.keyword = keyword
    self.header = header
    self.isInteger = isInteger
  }
}

/// LAMMPS's thermo layout: a header row of keyword names, then integers as `%8d` and reals as
/// `%12.8g` (or the formats of `thermo_modify format int|float`), columns separated by one space.
public struct ThermoFormat: Sendable {
  public var floatFormat = "%12.8g"
  public var integerFormat = "%8lld"

  public init() {}

  /// Checks a user format: exactly one conversion, of a floating (`e f g`) or integer (`d`) kind.
  public static func validated(_ format: String, integer: Bool) -> String? {
    let pattern = integer ? "^[^%]*%[-+ 0#]*[0-9]*d[^%]*$" : "^[^%]*%[-+ 0#]*[0-9]*(\\.[0-9]+)?[efgEG][^%]*$"
    guard format.range(of: pattern, options: .regularExpression) != nil else { return nil }
    return integer ? format.replacingOccurrences(of: "d", with: "lld", options: .regularExpression, range: format.range(of: "%[-+ 0#]*[0-9]*d", options: .regularExpression)) : format
  }

  public static let columns: [String: (header: String, isInteger: Bool)] = [
    "step": ("Step", true), "elapsed": ("Elapsed", true), "atoms": ("Atoms", true),
    "time": ("Time", false), "temp": ("Temp", false), "pe": ("PotEng", false), "ke": ("KinEng", false),
    "etotal": ("TotEng", false), "press": ("Press", false), "vol": ("Volume", false),
    "density": ("Density", false), "lx": ("Lx", false), "ly": ("Ly", false), "lz": ("Lz", false),
    "xy": ("Xy", false), "xz": ("Xz", false), "yz": ("Yz", false),
    "pxx": ("Pxx", false), "pyy": ("Pyy", false), "pzz": ("Pzz", false),
    "pxy": ("Pxy", false), "pxz": ("Pxz", false), "pyz": ("Pyz", false),
    "cpu": ("CPU", false), "tpcpu": ("T/CPU", false), "spcpu": ("S/CPU", false),
    "epair": ("E_pair", false), "emol": ("E_mol", false), "evdwl": ("E_vdwl", false),
    "enthalpy": ("Enthalpy", false), "nbuild": ("Nbuild", true), "ndanger": ("Ndanger", true),
    "dpoverflow": ("DPOverflow", true),
    "ecouple": ("Ecouple", false), "econserve": ("Econserve", false),
  ]

  public static func column(_ keyword: String) -> ThermoColumn? {
    guard let c = columns[keyword] else { return nil }
    return ThermoColumn(keyword: keyword, header: c.header, isInteger: c.isInteger)
  }

  public static func header(_ columns: [ThermoColumn]) -> String {
    columns.map(\.header).joined(separator: " ") + " "
  }

  public func row(_ columns: [ThermoColumn], _ values: [Double]) -> String {
    zip(columns, values).map { c, v in
      c.isInteger ? String(format: integerFormat, Int64(v))
        : String(format: floatFormat, v)
    }.joined(separator: " ") + " "
  }
}
