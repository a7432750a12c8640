import Output
import XCTest

/// Thermo lines byte for byte as LAMMPS prints them: the header and a row of Debian's `lmp` (29 Sep
/// 2021) for `thermo_style custom step temp pe press atoms` on the 32-atom fcc crystal at T = 1.5, and
/// LAMMPS's default formats (`%8d`, `%12.8g`) and user formats on known numbers, as C's printf writes
/// them.
final class ThermoFormatTests: XCTestCase {
  /// A subnormal number (parsed: a literal this small draws a compiler warning).
  let subnormal = Double("2.5e-310")!

  func columns(_ keywords: [String]) throws -> [ThermoColumn] {
    try keywords.map { try XCTUnwrap(ThermoFormat.column($0), $0) }
  }

  func testHeaderAndRowAreLammpsLines() throws {
    let c = try columns(["step", "temp", "pe", "press", "atoms"])
    XCTAssertEqual(ThermoFormat.header(c), "Step Temp PotEng Press Atoms ")
    XCTAssertEqual(ThermoFormat().row(c, [0, 1.5, -6.7733681, -5.0085891, 32]),
                   "       0          1.5   -6.7733681   -5.0085891       32 ")
  }

  func testDefaultFormatsOnKnownNumbers() throws {
    let temp = try columns(["temp"]), step = try columns(["step"])
    let format = ThermoFormat()
    for (value, printed) in [(0.0, "           0"), (1.5, "         1.5"), (-4.123456789012, "  -4.1234568"),
                             (6.02214076e23, "6.0221408e+23"), (1e-7, "       1e-07"), (-0.0, "          -0"),
                             (123456789.0, "1.2345679e+08"), (subnormal, "    2.5e-310")] {
      XCTAssertEqual(format.row(temp, [value]), printed + " ", "\(value)")
    }
    for (value, printed) in [(0.0, "       0"), (-3, "      -3"), (12345678, "12345678"), (123456789012, "123456789012")] {
      XCTAssertEqual(format.row(step, [value]), printed + " ", "\(value)")
    }
  }

  /// `thermo_modify format float|int`: one conversion of the right kind, or refused.
  func testUserFormats() throws {
    XCTAssertEqual(ThermoFormat.validated("%.16g", integer: false), "%.16g")
    XCTAssertEqual(ThermoFormat.validated("%10.4f", integer: false), "%10.4f")
    XCTAssertEqual(ThermoFormat.validated("%-12.3e|", integer: false), "%-12.3e|")
    XCTAssertEqual(ThermoFormat.validated("%05d", integer: true), "%05lld")
    for bad in ["%s", "%d", "%g %g", "value", "%.3q", "%n"] {
      XCTAssertNil(ThermoFormat.validated(bad, integer: false), bad)
    }
    for bad in ["%g", "%d%d", "%ld", "%x"] { XCTAssertNil(ThermoFormat.validated(bad, integer: true), bad) }
    var format = ThermoFormat()
    format.floatFormat = "%.16g"
    format.integerFormat = ThermoFormat.validated("%05d", integer: true)!
    let c = try columns(["step", "temp", "pe"])
    XCTAssertEqual(format.row(c, [7, -4.123456789012, subnormal]), "00007 -4.123456789012 2.500000000000017e-310 ")
    format.floatFormat = "%10.4f"
    XCTAssertEqual(format.row(c, [-3, 1.5, -4.123456789012]), "-0003     1.5000    -4.1235 ")
  }

  func testEveryKeywordHasALammpsHeader() {
    let lammps = ["step": "Step", "temp": "Temp", "pe": "PotEng", "ke": "KinEng", "etotal": "TotEng", "press": "Press",
                  "vol": "Volume", "pxy": "Pxy", "epair": "E_pair", "ecouple": "Ecouple", "econserve": "Econserve",
                  "tpcpu": "T/CPU", "density": "Density", "atoms": "Atoms"]
    for (keyword, header) in lammps { XCTAssertEqual(ThermoFormat.column(keyword)?.header, header, keyword) }
    XCTAssertNil(ThermoFormat.column("frobnicate"))
    XCTAssertEqual(ThermoFormat.column("atoms")?.isInteger, true)
    XCTAssertEqual(ThermoFormat.column("press")?.isInteger, false)
  }
}
