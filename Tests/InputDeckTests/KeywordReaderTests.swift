import InputDeck
import XCTest

/// The keyword reader every option loop uses: values are taken after their keyword, and each error is
/// located at the command and says what was expected after which keyword.
final class KeywordReaderTests: XCTestCase {
  private func command(_ words: String) -> Command {
    let arguments = words.split(separator: " ").map(String.init)
    return Command(name: "dump", arguments: arguments, location: SourceLocation(file: "in.test", line: 7),
                   text: "dump " + words)
  }

  private func assertError(_ words: String, _ expected: String, from start: Int = 0,
                           _ read: (inout KeywordReader) throws -> Void, line: UInt = #line) {
    var reader = KeywordReader(command(words), from: start)
    XCTAssertThrowsError(try read(&reader), line: line) { error in
      XCTAssertEqual("\(error)", "in.test:7: dump: \(expected)", line: line)
    }
  }

  func testReadsKeywordsAndTheirValuesInOrder() throws {
    var reader = KeywordReader(command("1 all h5md 10 d.h5 position every 5 box no author Ann velocity"), from: 5)
    var seen: [String] = []
    var every = 0, box = true, author = ""
    while let keyword = reader.nextKeyword() {
      seen.append(keyword)
      switch keyword {
      case "position": every = reader.take("every") ? try reader.positiveInteger("interval") : 1
      case "box": box = try reader.yesNo()
      case "author": author = try reader.word("name")
      default: XCTAssertFalse(reader.take("every"), "no every follows \(keyword)")
      }
    }
    XCTAssertEqual(seen, ["position", "box", "author", "velocity"])
    XCTAssertEqual(every, 5)
    XCTAssertFalse(box)
    XCTAssertEqual(author, "Ann")
    XCTAssertTrue(reader.isAtEnd)
    XCTAssertNil(reader.nextKeyword())
  }

  /// The case issue 16 names: `box` at the end of the line once said only "missing box".
  func testMissingValueSaysWhatWasExpectedAfterWhichKeyword() {
    assertError("box", "missing yes or no after box") { reader in
      _ = reader.nextKeyword()
      _ = try reader.yesNo()
    }
    assertError("box maybe", "expected yes or no after box, got 'maybe'") { reader in
      _ = reader.nextKeyword()
      _ = try reader.yesNo()
    }
  }

  func testChoicesListEveryAcceptedWord() throws {
    var reader = KeywordReader(command("lost warn"))
    _ = reader.nextKeyword()
    XCTAssertEqual(try reader.choice(["error": 0, "warn": 1, "ignore": 2]), 1)
    assertError("lost drop", "expected error, warn or ignore after lost, got 'drop'") { reader in
      _ = reader.nextKeyword()
      _ = try reader.choice(["error": 0, "warn": 1, "ignore": 2])
    }
  }

  func testNumbersAreCheckedAgainstTheirBound() throws {
    var reader = KeywordReader(command("out_freq 20 relative 0.5"))
    _ = reader.nextKeyword()
    XCTAssertEqual(try reader.count("step count"), 20)
    _ = reader.nextKeyword()
    XCTAssertEqual(try reader.number("level", .nonNegative), 0.5)
    assertError("out_freq 2.5", "expected step count >= 0 after out_freq, got '2.5'") { reader in
      _ = reader.nextKeyword()
      _ = try reader.count("step count")
    }
    // Beyond Int's range is refused, not rounded to 2⁶³ and trapped on (a fuzz case found it).
    assertError("delay 9223372036854775808", "expected step count >= 0 after delay, got '9223372036854775808'") { reader in
      _ = reader.nextKeyword()
      _ = try reader.count("step count")
    }
    var largest = KeywordReader(command("delay 9223372036854775807"))
    _ = largest.nextKeyword()
    XCTAssertEqual(try largest.count("step count"), Int.max)
    assertError("stride 0", "expected table step > 0 after stride, got '0'") { reader in
      _ = reader.nextKeyword()
      _ = try reader.number("table step", .positive)
    }
    assertError("every -3", "expected a positive integer for interval after every, got -3") { reader in
      _ = reader.nextKeyword()
      _ = try reader.positiveInteger("interval")
    }
    assertError("sort 1 0.5x", "expected a number for bin size after sort, got '0.5x'") { reader in
      _ = reader.nextKeyword()
      _ = try reader.integer("frequency")
      _ = try reader.double("bin size")
    }
  }

  func testFixedWidthValuesAreCounted() throws {
    var reader = KeywordReader(command("element Cu Ni Al"))
    _ = reader.nextKeyword()
    XCTAssertEqual(try reader.words(2, "names"), ["Cu", "Ni"])
    XCTAssertEqual(reader.remainingCount, 1)
    XCTAssertEqual(reader.peek, "Al")
    assertError("element Cu", "expected 2 values (one name per type) after element, got 1") { reader in
      _ = reader.nextKeyword()
      _ = try reader.words(2, "one name per type")
    }
  }

  func testUnknownKeywordNamesItAndTheAcceptedOnes() {
    assertError("norm yes colour red", "unsupported keyword 'colour' (norm, flush)") { reader in
      while let keyword = reader.nextKeyword() {
        guard keyword == "norm" else { throw reader.unknownKeyword("norm, flush") }
        _ = try reader.yesNo()
      }
    }
  }

  /// Reading starts where the command's positional arguments end.
  func testStartsAtTheGivenWord() throws {
    var reader = KeywordReader(command("ID all langevin 1 1 1 5 zero yes"), from: 7)
    XCTAssertEqual(reader.nextKeyword(), "zero")
    XCTAssertTrue(try reader.yesNo())
    XCTAssertTrue(reader.isAtEnd)
  }
}
