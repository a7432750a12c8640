import XCTest

/// Why two thermo tables (rows keyed by column name, as `thermoRows` reads them) disagree, one line
/// per finding; empty when they agree. A table without rows never agrees: a run that printed no thermo
/// must fail the comparison rather than pass it vacuously.
///
/// The tables must have the same number of rows and, row by row, the same columns (less those
/// `ignoring` accepts in either, e.g. `f_` columns one deck prints and the other does not; `columns`,
/// when given, must be in both and are the only ones compared). A value agrees when
/// |expected − actual| ≤ `tolerance` · scale, scale = max(|expected|, |actual|, the row's context):
/// pressures (`P…`) are judged on the row's largest of |Press|, |Pxx|, |Pyy|, |Pzz| because components
/// pass through zero; tilts (`Xy`, `Xz`, `Yz`) on the row's largest box length; `Ecouple` and
/// `Econserve`, which start at zero, on |TotEng|.
public func thermoTableDifferences(_ expected: [[String: Double]], _ actual: [[String: Double]], tolerance: Double,
                                   columns: [String]? = nil, ignoring: (String) -> Bool = { _ in false }) -> [String] {
  guard !expected.isEmpty else { return ["the expected table has no rows"] }
  guard actual.count == expected.count else { return ["\(actual.count) rows where \(expected.count) were expected"] }
  var findings: [String] = []
  for (index, (a, b)) in zip(expected, actual).enumerated() {
    let step = a["Step"].map { "step \(Int($0))" } ?? "row \(index)"
    let keysA = Set(a.keys.filter { !ignoring($0) }), keysB = Set(b.keys.filter { !ignoring($0) })
    let compared: [String]
    if let columns {
      let absent = columns.filter { a[$0] == nil || b[$0] == nil }
      guard absent.isEmpty else { return findings + ["\(step): column(s) \(absent) missing"] }
      compared = columns
    } else {
      guard keysA == keysB else {
        return findings + ["\(step): columns differ: only expected \(keysA.subtracting(keysB).sorted()), "
                           + "only actual \(keysB.subtracting(keysA).sorted())"]
      }
      compared = keysA.sorted()
    }
    for key in compared {
      let x = a[key]!, y = b[key]!
      if x == y { continue }
      let scale = max(abs(x), abs(y), thermoContextScale(key, row: a))
      let difference = abs(x - y) / scale
      // `!(… <= …)` so that a NaN fails.
      if !(difference <= tolerance) {
        findings.append("\(step), \(key): expected \(x), actual \(y) (relative \(difference), tolerance \(tolerance))")
      }
    }
  }
  return findings
}

/// The scale a column's differences are judged on besides its own magnitude (see `thermoTableDifferences`).
func thermoContextScale(_ key: String, row: [String: Double]) -> Double {
  func largest(_ keys: [String]) -> Double { keys.compactMap { row[$0].map(abs) }.max() ?? 0 }
  if key.hasPrefix("P") { return largest(["Press", "Pxx", "Pyy", "Pzz"]) }
  if ["Xy", "Xz", "Yz"].contains(key) { return largest(["Lx", "Ly", "Lz"]) }
  if key == "Ecouple" || key == "Econserve" { return largest(["TotEng"]) }
  return 0
}

/// Fails the test once per finding of `thermoTableDifferences` (at most 20, then a count), each
/// prefixed by `context`.
public func assertThermoTablesAgree(_ expected: [[String: Double]], _ actual: [[String: Double]],
                                    tolerance: Double, columns: [String]? = nil,
                                    ignoring: (String) -> Bool = { _ in false }, _ context: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
  let findings = thermoTableDifferences(expected, actual, tolerance: tolerance, columns: columns, ignoring: ignoring)
  for finding in findings.prefix(20) { XCTFail("\(context): \(finding)", file: file, line: line) }
  if findings.count > 20 { XCTFail("\(context): and \(findings.count - 20) more", file: file, line: line) }
}
