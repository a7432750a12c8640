import InputDeck
import XCTest

/// Variables and equal-style formulas against the values Debian's LAMMPS (`lmp`, 2024) prints for the
/// same expressions with `print "$(…)"` (precedence: unary minus above ^ above * / above + −).
final class VariableTests: XCTestCase {
  let here = SourceLocation(file: "in.test", line: 3)

  func variables() throws -> Variables {
    let v = Variables()
    try v.define("x", kind: .equal, values: ["1.5"], at: nil)
    try v.define("n", kind: .index, values: ["4", "5"], at: nil)
    return v
  }

  func testFormulasGiveLammpsValues() throws {
    let v = try variables()
    let lammps: [(String, Double)] = [
      ("2-3-4", -5), ("8/2/2", 2), ("-2^2", 4), ("2^3^2", 64), ("-2^-2^2", 0.0625), ("2*3^2", 18), ("-3^2+1", 10), ("sqrt(16)+ln(1)+log(100)", 6),
      ("v_x*2+v_n", 7), ("(1+2)*(3-5)/4", -1.5), ("floor(-2.5)+ceil(2.1)+round(2.5)+abs(-7)", 10),
      ("exp(1)", 2.7182818284590450908), ("sin(0.5)^2+cos(0.5)^2", 1), ("1e-3*2.5E2", 0.25),
      ("tan(0.25)", 0.25534192122103627209), ("10/4", 2.5),
    ]
    for (formula, value) in lammps {
      XCTAssertEqual(try v.evaluate(formula, at: here), value, accuracy: 1e-15 * max(1, abs(value)), formula)
    }
  }

  func testSubstitutionForms() throws {
    let v = try variables()
    XCTAssertEqual(try v.substitute("a ${x} $x $n $(v_x*4) b", at: here), "a 1.5 1.5 4 6 b")
    XCTAssertEqual(try v.substitute("no dollars", at: here), "no dollars")
    // `next` moves an index variable on, and removes it when exhausted.
    XCTAssertTrue(v.advance("n"))
    XCTAssertEqual(try v.value(of: "n", at: here), "5")
    XCTAssertFalse(v.advance("n"))
    XCTAssertThrowsError(try v.value(of: "n", at: here))
  }

  /// As in LAMMPS, `-var` on the command line wins over the deck's index definition.
  func testCommandLineIndexVariablesWin() throws {
    let v = Variables()
    try v.defineFromCommandLine("steps", values: ["20"])
    try v.define("steps", kind: .index, values: ["1000"], at: here)
    XCTAssertEqual(try v.numericValue(of: "steps", at: here), 20)
  }

  /// Equal-style variables are evaluated on use and read thermo keywords through `keywordValue`.
  func testEqualStyleIsEvaluatedOnUse() throws {
    let v = Variables()
    var step = 10.0
    v.keywordValue = { $0 == "step" ? step : nil }
    try v.define("half", kind: .equal, values: ["step/2"], at: here)
    XCTAssertEqual(try v.numericValue(of: "half", at: here), 5)
    step = 30
    XCTAssertEqual(try v.numericValue(of: "half", at: here), 15)
  }

  func testFormulaErrorsAreLocated() throws {
    let v = try variables()
    for (formula, message) in [("1/0", "division by zero"), ("2*(3", "missing ')'"), ("frob(2)", "unknown function 'frob'"),
                               ("v_missing+1", "undefined variable 'missing'"), ("temp*2", "unknown name 'temp'"),
                               ("3 4", "unexpected '4'")] {
      XCTAssertThrowsError(try v.evaluate(formula, at: here), formula) { error in
        XCTAssertEqual((error as? DeckError)?.location, here, "\(formula): \(error)")
        XCTAssertTrue("\(error)".hasPrefix("in.test:3: ") && "\(error)".contains(message), "\(formula): \(error)")
      }
    }
  }
}
