import Foundation

/// Reads deck lines from a file (or standard input's text): joins `&` continuations, drops `#`
/// comments (outside quotes), splits words (single, double and triple quotes keep spaces), and
/// substitutes variables when a line is taken — so a variable defined on one line is visible on the
/// next, as in LAMMPS. `jump` rewinds a reader and skips to a `label`.
public final class DeckReader {
  public let path: String
  private let lines: [Substring]
  private var next = 0

  /// The 1-based number of the first line that is not valid UTF-8 (for locating a damaged byte).
  public static func firstLineNotUTF8(_ data: Data) -> Int {
    let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    let bad = lines.firstIndex { String(data: Data($0), encoding: .utf8) == nil } ?? 0
    return bad + 1
  }

  public init(path: String) throws {
    self.path = path
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DeckError("cannot open input file '\(path)': \(Self.reason(path))")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw DeckError("not valid UTF-8 text", at: SourceLocation(file: path, line: Self.firstLineNotUTF8(data)))
    }
    lines = text.split(separator: "\n", omittingEmptySubsequences: false)
  }

  /// A deck already in memory (`tessera < in.lammps`), named `path` in error locations.
  public init(text: String, path: String) {
    self.path = path
    lines = text.split(separator: "\n", omittingEmptySubsequences: false)
  }

  /// `jump SELF`: the next command is the deck's first again.
  public func rewind() { next = 0 }

  /// `jump FILE LABEL`: skips lines, without substituting variables (they may not be defined yet, as
  /// LAMMPS's label search), until the line `label LABEL`; the command after it comes next.
  public func skip(toLabel label: String) throws -> Bool {
    while let (text, location) = nextLine() {
      let words = (try? Self.split(Self.stripComment(text), at: location)) ?? []
      if words == ["label", label] { return true }
    }
    return false
  }

  static func reason(_ path: String) -> String {
    var isDirectory: ObjCBool = false
    if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
    if isDirectory.boolValue { return "it is a directory" }
    return "permission denied"
  }

  /// The next command, or nil at the end of the file.
  public func nextCommand(variables: Variables) throws -> Command? {
    while let (text, location) = nextLine() {
      if let command = try Self.command(text, at: location, variables: variables) { return command }
    }
    return nil
  }

  /// The next line with its `&` continuations joined, and where it starts.
  private func nextLine() -> (String, SourceLocation)? {
    guard next < lines.count else { return nil }
    let lineNumber = next + 1
    var text = String(lines[next])
    next += 1
    while text.hasSuffix("&") || text.hasSuffix("&\r") {
      text = String(text.dropLast(text.hasSuffix("\r") ? 2 : 1))
      guard next < lines.count else { break }
      text += " " + lines[next]
      next += 1
    }
    return (text, SourceLocation(file: path, line: lineNumber))
  }

  /// One line as a command (LAMMPS `Input::one`, also for the commands an `if` runs): comment
  /// dropped, variables substituted, words split; nil for a blank line.
  public static func command(_ text: String, at location: SourceLocation, variables: Variables) throws -> Command? {
    let substituted = try variables.substitute(stripComment(text), at: location)
    let words = try split(substituted, at: location)
    guard let name = words.first else { return nil }
    return Command(name: name, arguments: Array(words.dropFirst()), location: location, text: text)
  }

  private static func stripComment(_ line: String) -> String {
    var quote: Character?
    var result = ""
    for c in line {
      if let q = quote {
        if c == q { quote = nil }
      } else if c == "\"" || c == "'" {
        quote = c
      } else if c == "#" {
        break
      }
      result.append(c)
    }
    return result
  }

  private static func split(_ line: String, at location: SourceLocation) throws -> [String] {
    var words: [String] = []
    var current = ""
    var inWord = false
    var quote: Character?
    for c in line {
      if let q = quote {
        if c == q { quote = nil } else { current.append(c) }
      } else if c == "\"" || c == "'" {
        quote = c
        inWord = true
      } else if c == " " || c == "\t" || c == "\r" {
        if inWord { words.append(current); current = ""; inWord = false }
      } else {
        current.append(c)
        inWord = true
      }
    }
    if quote != nil { throw DeckError("unterminated quote", at: location) }
    if inWord { words.append(current) }
    return words
  }
}
