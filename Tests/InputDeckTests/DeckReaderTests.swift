import Foundation
import InputDeck
import TesseraTestSupport
import XCTest

/// The deck reader: comments, `&` continuations, quotes, variable substitution when a line is taken,
/// and errors that name the file and line.
final class DeckReaderTests: XCTestCase {
  func deck(_ text: String) throws -> String {
    let path = try makeScratchDirectory("deck-reader").appendingPathComponent("in.test").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// Every command of a deck: name, arguments and line.
  func commands(_ text: String, variables: Variables = Variables()) throws -> [(String, [String], Int)] {
    let reader = try DeckReader(path: try deck(text))
    var result: [(String, [String], Int)] = []
    while let command = try reader.nextCommand(variables: variables) {
      result.append((command.name, command.arguments, command.location.line))
      // As the interpreter does, so that later lines see the definition.
      if command.name == "variable" {
        try variables.define(command.arguments[0], kind: command.arguments[1] == "equal" ? .equal : .index,
                             values: Array(command.arguments.dropFirst(2)), at: command.location)
      }
    }
    return result
  }

  func assertCommands(_ text: String, _ expected: [(String, [String], Int)], file: StaticString = #filePath, line: UInt = #line) throws {
    let found = try commands(text)
    XCTAssertEqual(found.count, expected.count, "\(found)", file: file, line: line)
    for (a, b) in zip(found, expected) {
      XCTAssertEqual(a.0, b.0, file: file, line: line)
      XCTAssertEqual(a.1, b.1, "\(a.0)", file: file, line: line)
      XCTAssertEqual(a.2, b.2, "line of \(a.0)", file: file, line: line)
    }
  }

  func testCommentsBlankLinesAndWhitespace() throws {
    try assertCommands("# a deck\n\nunits   lj  # reduced\n\t atom_style\tatomic\n   \n#run 10\nrun 5#no space\n", [
      ("units", ["lj"], 3), ("atom_style", ["atomic"], 4), ("run", ["5"], 7),
    ])
  }

  /// A continued command is located at its first line; the next command keeps its own line number.
  func testContinuationsJoinLines() throws {
    try assertCommands("pair_coeff 1 1 &\n  1.0 &\n  1.0 2.5\nrun 10 &\n\nmass 1 1.0\n", [
      ("pair_coeff", ["1", "1", "1.0", "1.0", "2.5"], 1), ("run", ["10"], 4), ("mass", ["1", "1.0"], 6),
    ])
  }

  func testQuotesKeepSpacesAndHashes() throws {
    try assertCommands("print \"hello   world # not a comment\" 'single quoted' \"\"\"triple\"\"\" # comment\n", [
      ("print", ["hello   world # not a comment", "single quoted", "triple"], 1),
    ])
  }

  func testVariablesAreSubstitutedWhenTheLineIsTaken() throws {
    try assertCommands("variable n index 7\nvariable t equal 2*v_n\nrun $n\nrun ${t} $(v_t+0.5)\nprint '$n'\n", [
      ("variable", ["n", "index", "7"], 1), ("variable", ["t", "equal", "2*v_n"], 2), ("run", ["7"], 3),
      ("run", ["14", "14.5"], 4), ("print", ["$n"], 5),
    ])
  }

  /// Bad input names the file and the line.
  func testErrorsAreLocated() throws {
    for (text, line, message) in [("units lj\nprint \"unterminated\n", 2, "unterminated quote"),
                                  ("units lj\n\nrun $q\n", 3, "undefined variable 'q'"),
                                  ("run 1 &\n 2 $(1+)\n", 1, "in formula '1+': unexpected end"),
                                  ("run ${n\n", 1, "unterminated '${'"),
                                  ("run 5 $\n", 1, "'$' at end of line")] {
      let path = try deck(text)
      let reader = try DeckReader(path: path)
      XCTAssertThrowsError(try { while try reader.nextCommand(variables: Variables()) != nil {} }(), text) { error in
        guard let deckError = error as? DeckError else { return XCTFail("\(text): not a DeckError: \(error)") }
        XCTAssertEqual(deckError.location, SourceLocation(file: path, line: line), text)
        XCTAssertTrue(deckError.description.hasPrefix("\(path):\(line): "), deckError.description)
        XCTAssertTrue(deckError.description.contains(message), "\(deckError.description) lacks \(message)")
      }
    }
  }

  func testUnreadableDecksAreNamed() throws {
    XCTAssertThrowsError(try DeckReader(path: "/nonexistent/in.deck")) { error in
      XCTAssertTrue("\(error)".contains("cannot open input file '/nonexistent/in.deck': no such file"), "\(error)")
    }
    let path = try deck("")
    try Data([0x72, 0x75, 0x6e, 0x0a, 0x72, 0xff, 0x0a]).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try DeckReader(path: path)) { error in
      XCTAssertEqual((error as? DeckError)?.location?.line, 2, "\(error)")
    }
  }
}
