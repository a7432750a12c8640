import Communication
import Foundation
import InputDeck
import Output
import Simulation
import TesseraTestSupport
import XCTest

/// Deck parsing and validation: located errors, variables, data files.
final class DeckTests: XCTestCase {
  func execute(_ text: String, files: [String: String] = [:], validateOnly: Bool = true) throws -> Simulation {
    let dir = try makeScratchDirectory("deck")
    for (name, content) in files {
      try content.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    let path = dir.appendingPathComponent("in.test").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    let previous = FileManager.default.currentDirectoryPath
    FileManager.default.changeCurrentDirectoryPath(dir.path)
    defer { FileManager.default.changeCurrentDirectoryPath(previous) }
    let simulation = Simulation(comm: SerialCommunicator(), console: Console(isWriter: false),
                                job: validateOnly ? .check(plannedRanks: nil) : .run)
    try Interpreter(simulation: simulation).execute(file: path)
    return simulation
  }

  func assertDeckError(_ text: String, line: Int, contains fragment: String, files: [String: String] = [:],
                       file: StaticString = #filePath, sourceLine: UInt = #line) {
    XCTAssertThrowsError(try execute(text, files: files), file: file, line: sourceLine) { error in
      guard let deckError = error as? DeckError else { return XCTFail("not a DeckError: \(error)", file: file, line: sourceLine) }
      XCTAssertEqual(deckError.location?.line, line, "\(deckError)", file: file, line: sourceLine)
      XCTAssert(deckError.location?.file.hasSuffix("in.test") ?? false, "\(deckError)", file: file, line: sourceLine)
      XCTAssert(deckError.description.contains(fragment), "\(deckError) lacks '\(fragment)'", file: file, line: sourceLine)
    }
  }

  func testUnknownCommandNamesItAndItsLine() {
    assertDeckError("units lj\n\nfrobnicate 3\n", line: 3, contains: "unknown command 'frobnicate'")
  }

  func testMalformedNumberIsLocated() {
    assertDeckError("units lj\nlattice fcc 0.84x42\n", line: 2, contains: "expected a number for lattice scale, got '0.84x42'")
  }

  /// Keyword values are read by one reader, whose errors say what was expected after which keyword
  /// (`dump h5md … box` at the end of the line once said only "missing box").
  func testKeywordValueErrorsSayWhatWasExpected() {
    let box = "units lj\nregion box block 0 2 0 2 0 2 units box\ncreate_box 1 box\n"
    assertDeckError(box + "dump 1 all h5md 10 d.h5 position box\n", line: 4, contains: "dump: missing yes or no after box")
    assertDeckError(box + "dump 1 all h5md 10 d.h5 position every 0\n", line: 4,
                    contains: "expected a positive integer for position every after every, got 0")
    assertDeckError(box + "thermo_modify norm no lost drop\n", line: 4,
                    contains: "thermo_modify: expected error, warn or ignore after lost, got 'drop'")
    assertDeckError(box + "neigh_modify every 2 delay\n", line: 4, contains: "neigh_modify: missing step count after delay")
    assertDeckError(box + "mass 1 1.0\nvelocity all create 1.0 5 dist normal\n", line: 5,
                    contains: "velocity: expected uniform or gaussian after dist, got 'normal'")
  }

  /// A box a typo made astronomically large is refused before any atom is created.
  func testAbsurdBoxIsRefusedBeforeCreatingAtoms() {
    assertDeckError("units lj\nlattice fcc 0.8442\nregion box block 0 1e12 0 5 0 5\ncreate_box 1 box\ncreate_atoms 1 box\n",
                    line: 5, contains: "the box spans 1.44e+14 lattice points, more than 1e+13")
    assertDeckError("units lj\nlattice fcc 0.8442\nregion box block 0 1e300 0 1e300 0 5\ncreate_box 1 box\ncreate_atoms 1 box\n",
                    line: 4, contains: "must have finite, positive extents")
  }

  func testMissingDataFileNamesThePath() {
    assertDeckError("units lj\n# comment\nread_data nowhere.data\n", line: 3, contains: "cannot open data file 'nowhere.data'")
  }

  func testDataFileErrorsNameTheDataFileLine() {
    let data = "title\n\n2 atoms\n1 atom types\n0 4 xlo xhi\n0 4 ylo yhi\n0 4 zlo zhi\n\nAtoms # atomic\n\n1 1 0 0 0\n2 1 1.0 nan 1\n"
    XCTAssertThrowsError(try execute("read_data bad.data\n", files: ["bad.data": data])) { error in
      let text = "\(error)"
      XCTAssert(text.contains("bad.data:12"), text)
      XCTAssert(text.contains("expected a number for y, got 'nan'"), text)
    }
  }

  // Regressions found by the fuzz harness (tessera-fuzz, seed 20261125): each once trapped.

  /// An atom 1e308 box lengths away once overflowed the 32-bit image count while being wrapped in.
  func testDataFileAtomFarOutsideThePeriodicBoxIsLocated() {
    let data = "title\n\n2 atoms\n1 atom types\n0 4 xlo xhi\n0 4 ylo yhi\n0 4 zlo zhi\n\nAtoms # atomic\n\n1 1 0 0 0\n2 1 1.0 -1e308 1\n"
    XCTAssertThrowsError(try execute("read_data far.data\n", files: ["far.data": data])) { error in
      XCTAssert("\(error)".contains("far.data:12: atom 2 lies more than 1000000 box lengths outside the periodic box"), "\(error)")
    }
  }

  /// Billions of atom types once allocated per-type tables until the process was killed.
  func testAbsurdAtomTypeCountsAreRefused() {
    assertDeckError("units lj\nregion box block 0 5 0 5 0 5 units box\ncreate_box 4294967296 box\n", line: 3,
                    contains: "4294967296 atom types is more than Tessera supports (1000)")
    let data = "title\n\n0 atoms\n9223372036854775807 atom types\n0 4 xlo xhi\n0 4 ylo yhi\n0 4 zlo zhi\n"
    XCTAssertThrowsError(try execute("read_data types.data\n", files: ["types.data": data])) { error in
      XCTAssert("\(error)".contains("types.data:4: 9223372036854775807 atom types is more than"), "\(error)")
    }
  }

  /// A damaged byte is reported at its line, in decks and data files alike.
  func testTextThatIsNotUTF8IsLocatedByLine() throws {
    let dir = try makeScratchDirectory("utf8")
    let deck = dir.appendingPathComponent("in.bad")
    try Data("units lj\n# fine\nlattice fcc \u{00}\n".utf8 + [0xFF, 0x0A]).write(to: deck)
    let simulation = Simulation(comm: SerialCommunicator(), console: Console(isWriter: false), job: .check(plannedRanks: nil))
    XCTAssertThrowsError(try Interpreter(simulation: simulation).execute(file: deck.path)) { error in
      XCTAssertEqual("\(error)", "\(deck.path):4: not valid UTF-8 text")
    }
    let data = Data("title\n\n2 atoms\n".utf8 + [0xC3, 0x28, 0x0A])
    let dataPath = dir.appendingPathComponent("bad.data")
    try data.write(to: dataPath)
    XCTAssertThrowsError(try execute("read_data \(dataPath.path)\n")) { error in
      XCTAssertEqual("\(error)", "\(dataPath.path):4: not valid UTF-8 text")
    }
  }

  /// A data-file box whose volume overflows is refused naming the data file.
  func testDataFileBoxTooLargeNamesTheDataFile() {
    let data = "title\n\n0 atoms\n1 atom types\n0 1e200 xlo xhi\n0 1e200 ylo yhi\n0 1e200 zlo zhi\n"
    assertDeckError("read_data huge.data\n", line: 1, contains: "the box in data file 'huge.data': ", files: ["huge.data": data])
  }

  func testVariablesSubstituteAndEvaluate() throws {
    let s = try execute("""
      variable n index 3
      variable a equal 2*${n}+1
      variable s string fcc
      units lj
      lattice $s $(v_a/7*0.8442)
      region box block 0 $n 0 ${n} 0 1
      create_box 1 box
      """)
    XCTAssertEqual(s.box?.length.z ?? 0, pow(4 / 0.8442, 1.0 / 3.0), accuracy: 1e-12)
    XCTAssertEqual(s.box?.length.x ?? 0, 3 * pow(4 / 0.8442, 1.0 / 3.0), accuracy: 1e-12)
  }

  func testContinuationAndComments() throws {
    let s = try execute("units lj # reduced units\nregion box block 0 2 &\n  0 3 0 4 units box\ncreate_box 2 box\n")
    XCTAssertEqual(s.box?.length, SIMD3(2, 3, 4))
    XCTAssertEqual(s.masses.typeCount, 2)
  }

  func testUnknownThermoKeywordIsRefused() {
    assertDeckError("units lj\nthermo_style custom step bogus\n", line: 2, contains: "unknown thermo keyword 'bogus'")
  }

  func testWriteDataReadDataRoundTripsExactly() throws {
    let dir = try makeScratchDirectory("roundtrip")
    let out = dir.appendingPathComponent("out.data").path
    let first = try execute("""
      units lj
      lattice fcc 0.8442
      region box prism 0 2 0 2 0 2 0.5 0 0
      create_box 1 box
      create_atoms 1 box
      mass 1 1.5
      velocity all create 1.0 1234
      write_data \(out)
      """, validateOnly: false)
    let second = try execute("units lj\nread_data \(out)\nwrite_data \(out).2\n", validateOnly: false)
    XCTAssertEqual(first.atomCount, 32)
    XCTAssertEqual(second.atomCount, 32)
    XCTAssertEqual(second.box, first.box)
    XCTAssertEqual(try String(contentsOfFile: out + ".2", encoding: .utf8).split(separator: "\n").dropFirst(),
                   try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").dropFirst())
    // Positions and velocities survive bit for bit.
    for i in 0..<first.atoms.ownedCount {
      let j = (0..<second.atoms.ownedCount).first { second.atoms.tag[$0] == first.atoms.tag[i] }!
      XCTAssertEqual(first.atoms.positionOf(i), second.atoms.positionOf(j))
      XCTAssertEqual(first.atoms.velocityOf(i), second.atoms.velocityOf(j))
    }
  }
}
