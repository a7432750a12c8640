import Foundation
import InputDeck

extension Simulation {
  /// `variable NAME index|string|equal VALUE…` (`delete` removes).
  func variable(_ c: Command) throws {
    try c.expectCount(2, Int.max, usage: "variable NAME STYLE VALUE…")
    let name = c.arguments[0]
    let values = Array(c.arguments.dropFirst(2))
    switch c.arguments[1] {
    case "index": try variables.define(name, kind: .index, values: values, at: c.location)
    case "string": try variables.define(name, kind: .string, values: [values.joined(separator: " ")], at: c.location)
    case "equal":
      try variables.define(name, kind: .equal, values: [values.joined(separator: " ")], at: c.location)
      _ = try? variables.numericValue(of: name, at: c.location)  // syntax errors surface on use
    case "delete": variables.delete(name)
    case let style: throw c.error("unsupported variable style '\(style)' (index, string, equal, delete)")
    }
  }

  /// `next NAME…`: advances index variables; once one is exhausted the next `jump` is skipped
  /// (LAMMPS's loop ending).
  func next(_ c: Command) throws {
    try c.expectCount(1, Int.max, usage: "next NAME…")
    for name in c.arguments where !variables.advance(name) { skipNextJump = true }
  }

  /// `print "TEXT"`: as LAMMPS, the variables in the (quoted) text are substituted now.
  func printCommand(_ c: Command) throws {
    guard !c.arguments.isEmpty else { throw c.error("expected the text to print") }
    console.line(try variables.substitute(c.arguments.joined(separator: " "), at: c.location))
  }

  /// `log FILE [append]`.
  func log(_ c: Command) throws {
    try c.expectCount(1, 2, usage: "log FILE [append]")
    if c.arguments.count == 2 && c.arguments[1] != "append" { throw c.error("expected 'append', got '\(c.arguments[1])'") }
    if c.arguments[0] == "none" { console.closeLog(); return }
    do {
      try console.openLog(c.arguments[0], append: c.arguments.count == 2)
    } catch {
      throw c.error("\(error)")
    }
  }

  /// `echo none|screen|log|both`.
  func echo(_ c: Command) throws {
    try c.expectCount(1, usage: "echo none|screen|log|both")
    switch c.arguments[0] {
    case "none": console.echo = false
    case "screen", "log", "both": console.echo = true
    case let w: throw c.error("expected none, screen, log or both, got '\(w)'")
    }
  }
}
