/// Reads a command's arguments from left to right, keyword by keyword, as LAMMPS's option loops do:
/// `nextKeyword()` takes a keyword, the value readers take the words after it. Every error is located
/// at the command and says what was expected after which keyword ("expected yes or no after box, got
/// 'maybe'"; "missing yes or no after box" at the end of the line), so that no command counts indices
/// by hand.
public struct KeywordReader {
  public let command: Command
  /// The next word to be read.
  public private(set) var index: Int
  /// The keyword most recently taken: what value errors are reported after.
  public private(set) var keyword = ""

  public init(_ command: Command, from index: Int = 0) {
    self.command = command
    self.index = index
  }

  public var isAtEnd: Bool { index >= command.arguments.count }

  /// Words not read yet.
  public var remainingCount: Int { command.arguments.count - index }

  /// The next word, not taken.
  public var peek: String? { isAtEnd ? nil : command.arguments[index] }

  /// Takes the next word as a keyword; nil at the end of the arguments.
  public mutating func nextKeyword() -> String? {
    guard let word = peek else { return nil }
    index += 1
    keyword = word
    return word
  }

  /// Takes the next word when it is `word` (an optional keyword such as `every` after a field).
  public mutating func take(_ word: String) -> Bool {
    guard peek == word else { return false }
    keyword = word
    index += 1
    return true
  }

  /// The located error for the keyword just taken, naming what the command accepts.
  public func unknownKeyword(_ accepted: String, _ prefix: String = "unsupported keyword") -> DeckError {
    command.error("\(prefix) '\(keyword)' (\(accepted))")
  }

  /// A located error with the command's name in front.
  public func error(_ message: String) -> DeckError { command.error(message) }

  /// The next word, whatever it is: `what` names it in the error at the end of the arguments.
  public mutating func word(_ what: String) throws -> String {
    guard let word = peek else { throw command.error("missing \(what)\(afterKeyword)") }
    index += 1
    return word
  }

  /// The next `count` words (a keyword's fixed-width values).
  public mutating func words(_ count: Int, _ what: String) throws -> [String] {
    guard index + count <= command.arguments.count else {
      throw command.error("expected \(count) value\(count == 1 ? "" : "s") (\(what))\(afterKeyword), got \(command.arguments.count - index)")
    }
    defer { index += count }
    return Array(command.arguments[index..<(index + count)])
  }

  /// The next word as one of `choices` (by name): "expected a, b or c after KEY, got 'w'".
  public mutating func choice<Value>(_ choices: KeyValuePairs<String, Value>) throws -> Value {
    let names = choices.map(\.key)
    let list = names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    let word = try self.word(list)
    guard let value = choices.first(where: { $0.key == word })?.value else {
      throw command.error("expected \(list)\(afterKeyword), got '\(word)'")
    }
    return value
  }

  public mutating func yesNo() throws -> Bool { try choice(["yes": true, "no": false]) }

  /// The next word as a number (`what` says which), finite.
  public mutating func double(_ what: String) throws -> Double {
    let word = try self.word(what)
    guard let value = parseNumber(word), value.isFinite else {
      throw command.error("expected a number for \(what)\(afterKeyword), got '\(word)'")
    }
    return value
  }

  public mutating func integer(_ what: String) throws -> Int {
    let word = try self.word(what)
    guard let value = Int(word) else { throw command.error("expected an integer for \(what)\(afterKeyword), got '\(word)'") }
    return value
  }

  public mutating func positiveInteger(_ what: String) throws -> Int {
    let value = try integer(what)
    guard value > 0 else { throw command.error("expected a positive integer for \(what)\(afterKeyword), got \(value)") }
    return value
  }

  /// The next word as a whole number >= 0 (a step count, a chain length), within Int's range:
  /// "expected step count >= 0 after out_freq, got '2.5'".
  public mutating func count(_ what: String) throws -> Int {
    let word = try self.word(what)
    guard let value = Int(word), value >= 0 else { throw command.error("expected \(what) >= 0\(afterKeyword), got '\(word)'") }
    return value
  }

  /// The next word as a number within `bound`: "expected table step > 0 after stride, got '0'".
  public mutating func number(_ what: String, _ bound: NumberBound) throws -> Double {
    let word = try self.word(what)
    guard let value = parseNumber(word), value.isFinite, bound.admits(value) else {
      throw command.error("expected \(what) \(bound)\(afterKeyword), got '\(word)'")
    }
    return value
  }

  private var afterKeyword: String { keyword.isEmpty ? "" : " after \(keyword)" }
}
