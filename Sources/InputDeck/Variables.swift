/// Deck variables: `variable NAME index|string|equal …` and `-var NAME VALUE` from the command line.
///
/// `$x` and `${name}` are replaced by the variable's value when a line is read; `$(expr)` by the
/// value of an immediate expression. Equal-style variables are formulas evaluated on use.
public final class Variables {
  public enum Kind: Sendable { case index, string, equal }
  struct Entry {
    var kind: Kind
    var values: [String]
    var position = 0
  }
  private var entries: [String: Entry] = [:]
  /// Numbers a formula may read besides other variables (thermo keywords such as `step`).
  public var keywordValue: (String) -> Double? = { _ in nil }

  public init() {}

  /// Defines a variable. As in LAMMPS, an index variable that already exists (set from the command
  /// line) keeps its value.
  public func define(_ name: String, kind: Kind, values: [String], at location: SourceLocation?) throws {
    guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
      throw DeckError("variable: invalid name '\(name)' (letters, digits and underscores)", at: location)
    }
    if let existing = entries[name], existing.kind == .index, kind == .index { return }
    guard !values.isEmpty else { throw DeckError("variable \(name): missing value", at: location) }
    entries[name] = Entry(kind: kind, values: values)
  }

  /// Sets a command-line variable (`-var NAME VALUE…`), an index variable that deck definitions
  /// of the same name do not override.
  public func defineFromCommandLine(_ name: String, values: [String]) throws {
    try define(name, kind: .index, values: values, at: nil)
  }

  /// `next NAME`: advances an index variable; returns false when exhausted (and removes it).
  public func advance(_ name: String) -> Bool {
    guard var e = entries[name] else { return false }
    e.position += 1
    if e.position >= e.values.count {
      entries[name] = nil
      return false
    }
    entries[name] = e
    return true
  }

  public func delete(_ name: String) { entries[name] = nil }

  /// The style of a defined variable; nil when undefined.
  public func kind(of name: String) -> Kind? { entries[name]?.kind }

  /// The current value of a variable as text.
  public func value(of name: String, at location: SourceLocation?) throws -> String {
    guard let e = entries[name] else { throw DeckError("substitution for undefined variable '\(name)'", at: location) }
    switch e.kind {
    case .index, .string: return e.values[e.position]
    case .equal: return formatNumber(try numericValue(of: name, at: location))
    }
  }

  /// How deep equal-style formulas are evaluating one another now (a formula naming itself, directly
  /// or through others, would recurse without end).
  private var evaluationDepth = 0

  /// The numeric value of a variable (equal-style formulas are evaluated).
  public func numericValue(of name: String, at location: SourceLocation?) throws -> Double {
    guard let e = entries[name] else { throw DeckError("undefined variable '\(name)'", at: location) }
    guard evaluationDepth < 100 else {
      throw DeckError("variable '\(name)': formulas refer to one another more than 100 deep (a variable defined through itself?)", at: location)
    }
    evaluationDepth += 1
    defer { evaluationDepth -= 1 }
    let text = e.kind == .equal ? e.values.joined(separator: " ") : e.values[e.position]
    return try evaluate(text, at: location)
  }

  public func evaluate(_ expression: String, at location: SourceLocation?) throws -> Double {
    var parser = ExpressionParser(text: expression, location: location, variables: self)
    return try parser.parse()
  }

  /// Replaces `$x`, `${name}` and `$(expr)` in one line.
  public func substitute(_ line: String, at location: SourceLocation) throws -> String {
    guard line.contains("$") else { return line }
    var out = ""
    var chars = Array(line)[...]
    var quote: Character?
    while let c = chars.popFirst() {
      if let q = quote {
        if c == q { quote = nil }
        out.append(c)
        continue
      }
      if c == "\"" || c == "'" { quote = c; out.append(c); continue }
      guard c == "$" else { out.append(c); continue }
      guard let n = chars.popFirst() else { throw DeckError("'$' at end of line", at: location) }
      if n == "{" || n == "(" {
        let close: Character = n == "{" ? "}" : ")"
        var depth = 1, inner = ""
        while let d = chars.popFirst() {
          if d == n { depth += 1 }
          if d == close { depth -= 1; if depth == 0 { break } }
          inner.append(d)
        }
        guard depth == 0 else { throw DeckError("unterminated '$\(n)' in '\(line)'", at: location) }
        out += n == "{" ? try value(of: inner, at: location) : formatNumber(try evaluate(inner, at: location))
      } else {
        out += try value(of: String(n), at: location)
      }
    }
    return out
  }
}

/// Numbers substituted into text use the shortest representation that reads back exactly.
public func formatNumber(_ v: Double) -> String {
  if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
  return "\(v)"
}
