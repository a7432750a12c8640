/// The Boolean expressions of `if` (LAMMPS's `Variable::evaluate_boolean`): operands are numbers or
/// words (letters, digits, underscores, starting with a letter); operators, loosest first, are
/// `||` `|^` (exclusive or), `&&`, `==` `!=`, `<` `<=` `>` `>=`, and unary `!`, with parentheses.
/// Words compare only with `==` and `!=`, as strings; there is no arithmetic (LAMMPS leaves that to
/// `$(…)`, which is substituted before the expression is read). Non-zero numbers are true.
public struct BooleanExpression {
  private enum Value {
    case number(Double)
    case word(String)
  }

  private let text: [Character]
  private let location: SourceLocation?
  private var position = 0

  /// Evaluates `text`; a malformed expression is a located error that quotes it.
  public static func evaluate(_ text: String, at location: SourceLocation?) throws -> Bool {
    var parser = BooleanExpression(text: Array(text), location: location)
    let value = try parser.or()
    parser.skipSpace()
    if parser.position < parser.text.count { throw parser.unexpected(parser.text[parser.position]) }
    return try parser.truth(value)
  }

  private init(text: [Character], location: SourceLocation?) {
    self.text = text
    self.location = location
  }

  private func fail(_ message: String) -> DeckError {
    DeckError("if: invalid Boolean expression '\(String(text))': \(message)", at: location)
  }

  private mutating func skipSpace() { while position < text.count, text[position] == " " || text[position] == "\t" { position += 1 } }

  /// Consumes `token` if the text continues with it.
  private mutating func take(_ token: String) -> Bool {
    skipSpace()
    let chars = Array(token)
    guard position + chars.count <= text.count, Array(text[position..<(position + chars.count)]) == chars else { return false }
    position += chars.count
    return true
  }

  private func truth(_ value: Value) throws -> Bool {
    guard case .number(let x) = value else { throw fail("a word is not true or false; compare it with == or !=") }
    return x != 0
  }

  private func boolean(_ b: Bool) -> Value { .number(b ? 1 : 0) }

  private mutating func or() throws -> Value {
    var left = try and()
    while true {
      if take("||") {
        let right = try and()
        left = boolean(try truth(left) || truth(right))
      } else if take("|^") {
        let right = try and()
        left = boolean(try truth(left) != truth(right))
      } else {
        return left
      }
    }
  }

  private mutating func and() throws -> Value {
    var left = try equality()
    while take("&&") {
      let right = try equality()
      left = boolean(try truth(left) && truth(right))
    }
    return left
  }

  private mutating func equality() throws -> Value {
    var left = try comparison()
    while true {
      let equal: Bool
      if take("==") { equal = true } else if take("!=") { equal = false } else { return left }
      let right = try comparison()
      switch (left, right) {
      case (.number(let a), .number(let b)): left = boolean((a == b) == equal)
      case (.word(let a), .word(let b)): left = boolean((a == b) == equal)
      default: throw fail("a word compares only with a word")
      }
    }
  }

  private mutating func comparison() throws -> Value {
    var left = try unary()
    while true {
      let op: (Double, Double) -> Bool
      if take("<=") { op = (<=) } else if take(">=") { op = (>=) } else if take("<") { op = (<) } else if take(">") { op = (>) } else {
        return left
      }
      let right = try unary()
      guard case .number(let a) = left, case .number(let b) = right else { throw fail("words compare only with == or !=") }
      left = boolean(op(a, b))
    }
  }

  private mutating func unary() throws -> Value {
    skipSpace()
    // `!` but not `!=`.
    if position < text.count, text[position] == "!", position + 1 >= text.count || text[position + 1] != "=" {
      position += 1
      return boolean(!(try truth(try unary())))
    }
    return try operand()
  }

  private mutating func operand() throws -> Value {
    skipSpace()
    guard position < text.count else { throw fail("an operand is missing at its end") }
    let c = text[position]
    if c == "(" {
      position += 1
      let inner = try or()
      guard take(")") else { throw fail("missing ')'") }
      return inner
    }
    if c.isNumber || c == "." || c == "-" || c == "+" {
      let start = position
      position += 1
      while position < text.count {
        let d = text[position]
        let exponentSign = (d == "-" || d == "+") && (text[position - 1] == "e" || text[position - 1] == "E")
        guard d.isNumber || d == "." || d == "e" || d == "E" || exponentSign else { break }
        position += 1
      }
      let word = String(text[start..<position])
      guard let x = parseNumber(word) else { throw fail("malformed number '\(word)'") }
      return .number(x)
    }
    if c.isLetter {
      let start = position
      while position < text.count, text[position].isLetter || text[position].isNumber || text[position] == "_" { position += 1 }
      return .word(String(text[start..<position]))
    }
    throw unexpected(c)
  }

  private func unexpected(_ c: Character) -> DeckError {
    fail(c == "^" ? "'^' is not an operator here; exclusive or is '|^'" : "unexpected '\(c)'")
  }
}
