import TesseraTestSupport
import XCTest

/// The shared thermo comparison fails what it must: no rows, a different number of rows, other
/// columns, a value off (or NaN); and passes equal tables and differences within the tolerance.
final class ThermoComparisonTests: XCTestCase {
  let table: [[String: Double]] = [
    ["Step": 0, "Temp": 1.5, "TotEng": -4.0, "Press": 2.0, "Pxx": 3.0, "Pxy": 0.01, "Ecouple": 0, "Lx": 10, "Xy": 0],
    ["Step": 10, "Temp": 1.4, "TotEng": -4.1, "Press": 1.0, "Pxx": -2.0, "Pxy": 0.02, "Ecouple": 0.1, "Lx": 10, "Xy": 1],
  ]

  func differences(_ actual: [[String: Double]], columns: [String]? = nil,
                   ignoring: @escaping (String) -> Bool = { _ in false }) -> [String] {
    thermoTableDifferences(table, actual, tolerance: 1e-8, columns: columns, ignoring: ignoring)
  }

  func testARunWithoutRowsFails() {
    XCTAssertEqual(thermoTableDifferences([], [], tolerance: 1e-8), ["the expected table has no rows"])
    XCTAssertEqual(differences([]), ["0 rows where 2 were expected"])
    XCTAssertEqual(differences([table[0]]), ["1 rows where 2 were expected"])
  }

  func testEqualTablesAgree() {
    XCTAssertEqual(differences(table), [])
  }

  func testColumnsMustMatch() {
    var missing = table
    missing[1]["Temp"] = nil
    XCTAssertEqual(differences(missing), ["step 10: columns differ: only expected [\"Temp\"], only actual []"])
    var extra = table
    extra[0]["f_2"] = 3
    XCTAssertEqual(differences(extra).count, 1)
    XCTAssertEqual(differences(extra, ignoring: { $0.hasPrefix("f_") }), [])
    XCTAssertEqual(differences(missing, columns: ["Step", "TotEng"]), [])
    XCTAssertEqual(differences(table, columns: ["Step", "PotEng"]), ["step 0: column(s) [\"PotEng\"] missing"])
  }

  func testValuesAreJudgedOnTheirScale() {
    var off = table
    off[1]["Temp"] = 1.4 * (1 + 3e-8)
    XCTAssertEqual(differences(off).count, 1)
    XCTAssertTrue(differences(off)[0].hasPrefix("step 10, Temp: expected 1.4"), differences(off)[0])
    off[1]["Temp"] = 1.4 * (1 + 5e-9)
    XCTAssertEqual(differences(off), [])
    off[1]["Temp"] = .nan
    XCTAssertEqual(differences(off).count, 1)
    // Pxy (0.02) is judged on the largest diagonal pressure of its row (2.0), Ecouple on |TotEng|,
    // tilts on the box length.
    var scaled = table
    scaled[1]["Pxy"] = 0.02 + 1.5e-8
    scaled[1]["Ecouple"] = 0.1 + 3e-8
    scaled[1]["Xy"] = 1 + 9e-8
    XCTAssertEqual(differences(scaled), [])
    scaled[1]["Pxy"] = 0.02 + 2.5e-8
    XCTAssertEqual(differences(scaled).count, 1)
  }

  /// Failures recorded while `capturing` instead of failing this test: how the assertion form is
  /// shown to fail (XCTExpectFailure does not exist in Linux's XCTest).
  private var captured: [String]?

  override func recordFailure(withDescription description: String, inFile filePath: String, atLine lineNumber: Int,
                              expected: Bool) {
    if captured != nil { captured!.append(description) } else {
      super.recordFailure(withDescription: description, inFile: filePath, atLine: lineNumber, expected: expected)
    }
  }

  func failures(_ body: () -> Void) -> [String] {
    captured = []
    body()
    defer { captured = nil }
    return captured!
  }

  /// The assertion fails the test once per finding, named by its context; an empty run fails it.
  func testTheAssertionFailsOncePerFinding() {
    var off = table
    off[0]["Temp"] = 2
    off[1]["TotEng"] = 5
    let reported = failures { assertThermoTablesAgree(table, off, tolerance: 1e-8, "two off") }
    XCTAssertEqual(reported.count, 2, "\(reported)")
    XCTAssertTrue(reported.allSatisfy { $0.contains("two off: step") }, "\(reported)")
    let empty = failures { assertThermoTablesAgree(table, [], tolerance: 1e-8, "no rows") }
    XCTAssertEqual(empty.count, 1, "\(empty)")
    XCTAssertTrue(empty.first?.contains("no rows: 0 rows where 2 were expected") ?? false, "\(empty)")
    XCTAssertEqual(failures { assertThermoTablesAgree(table, table, tolerance: 1e-8, "same") }, [])
  }
}
