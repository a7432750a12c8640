import Foundation

/// Recursive-descent evaluator for equal-style formulas: numbers, + − * / ^, unary minus,
/// parentheses, `v_name`, thermo keywords, and the functions sqrt exp ln log abs sin cos tan floor
/// ceil round.
struct ExpressionParser {
  let text: [Character]
  let location: SourceLocation?
  let variables: Variables
  var position = 0

  init(text: String, location: SourceLocation?, variables: Variables) {
    self.text = Array(text)
    self.location = location
    self.variables = variables
  }

  mutating func parse() throws -> Double {
    let v = try sum()
    skipSpace()
    if position < text.count { throw fail("unexpected '\(text[position])'") }
    return v
  }

  private func fail(_ message: String) -> DeckError {
    DeckError("in formula '\(String(text))': \(message)", at: location)
  }

  private mutating func skipSpace() { while position < text.count, text[position] == " " { position += 1 } }

  private mutating func peek() -> Character? {
    skipSpace()
    return position < text.count ? text[position] : nil
  }

  private mutating func sum() throws -> Double {
    var v = try product()
    while let c = peek(), c == "+" || c == "-" {
      position += 1
      let r = try product()
      v = c == "+" ? v + r : v - r
    }
    return v
  }

  private mutating func product() throws -> Double {
    var v = try power()
    while let c = peek(), c == "*" || c == "/" {
      position += 1
      let r = try power()
      if c == "/" && r == 0 { throw fail("division by zero") }
      v = c == "*" ? v * r : v / r
    }
    return v
  }

  /// `^` groups left to right as in LAMMPS's Variable::evaluate (operators of equal precedence are
  /// applied in order): 2^3^2 is 64, not 512.
  private mutating func power() throws -> Double {
    var v = try unary()
    while peek() == "^" {
      position += 1
      v = pow(v, try unary())
    }
    return v
  }

  private mutating func unary() throws -> Double {
    if peek() == "-" { position += 1; return -(try unary()) }
    if peek() == "+" { position += 1; return try unary() }
    return try primary()
  }

  private mutating func primary() throws -> Double {
    guard let c = peek() else { throw fail("unexpected end") }
    if c == "(" {
      position += 1
      let v = try sum()
      guard peek() == ")" else { throw fail("missing ')'") }
      position += 1
      return v
    }
    if c.isNumber || c == "." {
      let start = position
      while position < text.count, text[position].isNumber || text[position] == "." { position += 1 }
      if position < text.count, text[position] == "e" || text[position] == "E" {
        position += 1
        if position < text.count, text[position] == "+" || text[position] == "-" { position += 1 }
        while position < text.count, text[position].isNumber { position += 1 }
      }
      let word = String(text[start..<position])
      guard let v = Double(word) else { throw fail("malformed number '\(word)'") }
      return v
    }
    if c.isLetter {
      let start = position
      while position < text.count, text[position].isLetter || text[position].isNumber || text[position] == "_" {
        position += 1
      }
      let name = String(text[start..<position])
      if peek() == "(" {
        position += 1
        let argument = try sum()
        guard peek() == ")" else { throw fail("missing ')' after \(name)(") }
        position += 1
        return try apply(name, argument)
      }
      if name.hasPrefix("v_") { return try variables.numericValue(of: String(name.dropFirst(2)), at: location) }
      if let v = variables.keywordValue(name) { return v }
      throw fail("unknown name '\(name)'")
    }
    throw fail("unexpected '\(c)'")
  }

  private func apply(_ name: String, _ x: Double) throws -> Double {
    switch name {
    case "sqrt": return x.squareRoot()
    case "exp": return exp(x)
    case "ln": return log(x)
    case "log": return log10(x)
    case "abs": return abs(x)
    case "sin": return sin(x)
    case "cos": return cos(x)
    case "tan": return tan(x)
    case "floor": return x.rounded(.down)
    case "ceil": return x.rounded(.up)
    case "round": return x.rounded()
    default: throw fail("unknown function '\(name)'")
    }
  }
}
