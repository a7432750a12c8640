/// Where a command came from, for error messages.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public init(file: String, line: Int) {
    self.file = file
    self.line = line
  }
  public var description: String { "\(file):\(line)" }
}

/// A problem with the input, located in a deck or data file.
public struct DeckError: Error, CustomStringConvertible {
  public var location: SourceLocation?
  public var message: String
  public init(_ message: String, at location: SourceLocation? = nil) {
    self.message = message
    self.location = location
  }
  public var description: String {
    guard let location else { return message }
    return "\(location): \(message)"
  }
}

/// One deck command after variable substitution: its name and words.
public struct Command: Sendable {
  public var name: String
  public var arguments: [String]
  public var location: SourceLocation
  /// The line as written (after continuation joining), for `echo` and error reports.
  public var text: String

  public init(name: String, arguments: [String], location: SourceLocation, text: String) {
    self.name = name
    self.arguments = arguments
    self.location = location
    self.text = text
  }

  public func error(_ message: String) -> DeckError { DeckError("\(name): \(message)", at: location) }

  /// Fails unless the command has between `min` and `max` words.
  public func expectCount(_ min: Int, _ max: Int? = nil, usage: String) throws {
    let upper = max ?? min
    if arguments.count < min || arguments.count > upper {
      throw error("expected \(usage), got \(arguments.count) argument\(arguments.count == 1 ? "" : "s")")
    }
  }

  public func word(_ i: Int, _ what: String) throws -> String {
    guard i < arguments.count else { throw error("missing \(what)") }
    return arguments[i]
  }

  public func double(_ i: Int, _ what: String) throws -> Double {
    let w = try word(i, what)
    guard let v = parseNumber(w), v.isFinite else {
      throw error("expected a number for \(what), got '\(w)'")
    }
    return v
  }

  public func integer(_ i: Int, _ what: String) throws -> Int {
    let w = try word(i, what)
    guard let v = Int(w) else { throw error("expected an integer for \(what), got '\(w)'") }
    return v
  }

  public func positiveInteger(_ i: Int, _ what: String) throws -> Int {
    let v = try integer(i, what)
    guard v > 0 else { throw error("expected a positive integer for \(what), got \(v)") }
    return v
  }
}

/// What a keyword's number may be: above (or from) a lower bound.
public struct NumberBound: Sendable, CustomStringConvertible {
  public var lower: Double
  public var inclusive: Bool
  public static let positive = NumberBound(lower: 0, inclusive: false)
  public static let nonNegative = NumberBound(lower: 0, inclusive: true)
  public static func above(_ lower: Double) -> NumberBound { NumberBound(lower: lower, inclusive: false) }

  public func admits(_ value: Double) -> Bool { inclusive ? value >= lower : value > lower }
  public var description: String { "\(inclusive ? ">=" : ">") \(formatBound(lower))" }
}

/// 0 and 1 print as such, not 0.0.
private func formatBound(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

/// Parses a LAMMPS number: decimal or exponent notation (Fortran-style `d` exponents refused).
public func parseNumber(_ word: String) -> Double? {
  guard !word.isEmpty, word.allSatisfy({ "0123456789+-.eE".contains($0) }) else { return nil }
  return Double(word)
}
