import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

final class ExtendedXYZTests: XCTestCase {
  // MARK: - Reading

  func testReadsPeriodicFrameWithEveryKindOfField() throws {
    let text = #"""
      2
      Lattice="5.44 0.0 0.0 0.0 5.44 0.0 0.0 0.0 5.44" \#
      Properties=species:S:1:pos:R:3:forces:R:3:energies:R:1:tags:I:1:fixed:L:1:label:S:1 \#
      config=perfect_lattice name="bulk silicon" energy=-3.5 step=12 converged pbc="T T F"
      Si 0.0 0.0 0.0 0.1 -0.2 0.3 -1.75 1 T corner
      Si 1.36 1.36 1.36 -0.1 0.2 -0.3 -1.5 2 F centre

      """#
    let frames = try ExtendedXYZ.parse(text, fileName: "si.xyz")

    XCTAssertEqual(frames.count, 1)
    let frame = try XCTUnwrap(frames.first)
    XCTAssertEqual(frame.atomCount, 2)
    XCTAssertEqual(frame.species, ["Si", "Si"])
    XCTAssertEqual(frame.positions, [0, 0, 0, 1.36, 1.36, 1.36])
    XCTAssertEqual(frame.lattice, [5.44, 0, 0, 0, 5.44, 0, 0, 0, 5.44])
    XCTAssertEqual(frame.pbc, [true, true, false])
    XCTAssertEqual(frame.info.keys, ["config", "name", "energy", "step", "converged"])
    XCTAssertEqual(frame.info["config"], .string("perfect_lattice"))
    XCTAssertEqual(frame.info["name"], .string("bulk silicon"))
    XCTAssertEqual(frame.info["energy"], .double(-3.5))
    XCTAssertEqual(frame.info["step"], .integer(12))
    XCTAssertEqual(frame.info["converged"], .bool(true))
    XCTAssertEqual(frame.arrays, [
      ExtendedXYZProperty(name: "forces", width: 3, values: .reals([0.1, -0.2, 0.3, -0.1, 0.2, -0.3])),
      ExtendedXYZProperty(name: "energies", width: 1, values: .reals([-1.75, -1.5])),
      ExtendedXYZProperty(name: "tags", width: 1, values: .integers([1, 2])),
      ExtendedXYZProperty(name: "fixed", width: 1, values: .logicals([true, false])),
      ExtendedXYZProperty(name: "label", width: 1, values: .strings(["corner", "centre"])),
    ])
    XCTAssertEqual(frame.arrays.map(\.kind), [.real, .real, .integer, .logical, .string])
    XCTAssertEqual(frame.property(named: "energies")?.values, .reals([-1.75, -1.5]))
    XCTAssertNil(frame.property(named: "velocities"))
  }

  func testFrameWithoutLatticeIsNotPeriodicAndUsesDefaultProperties() throws {
    let text = """
      3

      O 0.0 0.0 0.0
      H 0.757 0.586 0.0
      H -0.757 0.586 0.0
      """
    let frame = try XCTUnwrap(ExtendedXYZ.parse(text, fileName: "water.xyz").first)

    XCTAssertEqual(frame.species, ["O", "H", "H"])
    XCTAssertEqual(frame.positions, [0, 0, 0, 0.757, 0.586, 0, -0.757, 0.586, 0])
    XCTAssertNil(frame.lattice)
    XCTAssertEqual(frame.pbc, [false, false, false])
    XCTAssertTrue(frame.info.isEmpty)
    XCTAssertTrue(frame.arrays.isEmpty)
  }

  func testLatticeWithoutPbcIsPeriodicEverywhere() throws {
    let text = """
      1
      Lattice="2 0 0 0 3 0 0 0 4"
      Ar 0 0 0
      """
    let frame = try XCTUnwrap(ExtendedXYZ.parse(text, fileName: "argon.xyz").first)
    XCTAssertEqual(frame.lattice, [2, 0, 0, 0, 3, 0, 0, 0, 4])
    XCTAssertEqual(frame.pbc, [true, true, true])
    XCTAssertEqual(ExtendedXYZFrame(species: ["Ar"], positions: [0, 0, 0], lattice: frame.lattice).pbc,
                   [true, true, true])
    XCTAssertEqual(ExtendedXYZFrame(species: ["Ar"], positions: [0, 0, 0]).pbc, [false, false, false])
  }

  func testSinglePbcFlagAppliesToAllDirectionsAsInASE() throws {
    let frames = try ExtendedXYZ.parse("1\npbc=F\nH 0 0 0\n1\npbc\nH 0 0 0\n", fileName: "pbc.xyz")
    XCTAssertEqual(frames.map(\.pbc), [[false, false, false], [true, true, true]])
  }

  func testReadsEveryFrameOfAFileWithWindowsLineEndings() throws {
    let text = "2\r\nstep=0\r\nH 0 0 0\r\nH 0 0 0.74\r\n1\r\nstep=1\r\nHe 1 2 3\r\n\r\n\r\n"
    let frames = try ExtendedXYZ.parse(text, fileName: "steps.xyz")

    XCTAssertEqual(frames.map(\.atomCount), [2, 1])
    XCTAssertEqual(frames.map { $0.info["step"] }, [.integer(0), .integer(1)])
    XCTAssertEqual(frames[0].positions, [0, 0, 0, 0, 0, 0.74])
    XCTAssertEqual(frames[1].species, ["He"])
    XCTAssertEqual(frames[1].positions, [1, 2, 3])
  }

  func testEmptyTextHasNoFrames() throws {
    XCTAssertEqual(try ExtendedXYZ.parse("", fileName: "empty.xyz"), [])
    XCTAssertEqual(try ExtendedXYZ.parse("\n\n", fileName: "blank.xyz"), [])
  }

  func testCommentLineSyntaxFollowsASE() throws {
    let text = #"""
      1
      Properties=species:S:1:pos:R:3 quote="say \"hi\"" braces={a b} old=[1, 2, 3] mixed=[1, 2.5] flag \#
      spaced = 7 single='x y' yes=True no=false flags="T F T" lower=t uid=007 ratio=1e-05 \#
      huge=99999999999999999999 comma=a,b path="C:\\dir" eq=a=b hex=0x10 pbc="True False t"
      h 0 0 0
      """#
    let frame = try XCTUnwrap(ExtendedXYZ.parse(text, fileName: "syntax.xyz").first)

    let expected: ExtendedXYZInfo = [
      "quote": .string(#"say "hi""#),
      "braces": .string("a b"),
      "old": .integers([1, 2, 3]),
      "mixed": .doubles([1, 2.5]),
      "flag": .bool(true),
      "spaced": .integer(7),
      "single": .string("x y"),
      "yes": .bool(true),
      "no": .bool(false),
      "flags": .bools([true, false, true]),
      "lower": .string("t"),  // ASE's info parser leaves lower-case t as text
      "uid": .string("007"),  // ASE never converts uid
      "ratio": .double(1e-05),
      "huge": .double(1e20),  // too large for an integer, so a real as in ASE
      "comma": .string("a,b"),
      "path": .string(#"C:\dir"#),
      "eq": .string("a=b"),
      "hex": .string("0x10"),  // Python reads no hexadecimal floats
    ]
    XCTAssertEqual(frame.info.keys, expected.keys)
    XCTAssertEqual(frame.info, expected)
    XCTAssertEqual(frame.pbc, [true, false, true])
    XCTAssertEqual(frame.species, ["H"], "symbols are capitalized as ASE does")
  }

  func testFreeTextCommentBecomesFlagsAsInASE() throws {
    let frame = try XCTUnwrap(ExtendedXYZ.parse("1\nwater molecule\nO 0 0 0\n", fileName: "plain.xyz").first)
    XCTAssertEqual(frame.info, ["water": .bool(true), "molecule": .bool(true)])
  }

  func testRepeatedKeyKeepsFirstPositionAndLastValue() throws {
    let frame = try XCTUnwrap(ExtendedXYZ.parse("1\na=1 b=2 a=3\nO 0 0 0\n", fileName: "repeat.xyz").first)
    XCTAssertEqual(frame.info.keys, ["a", "b"])
    XCTAssertEqual(frame.info["a"], .integer(3))

    var info = frame.info
    info["b"] = nil
    info["c"] = .bool(false)
    info["a"] = .string("x")
    XCTAssertEqual(info.map(\.key), ["a", "c"])
    XCTAssertEqual(info.map(\.value), [.string("x"), .bool(false)])
  }

  func testAcceptsASEColumnNameAliasesInAnyOrder() throws {
    let text = "1\nProperties=positions:R:3:charge:R:1:symbols:S:1\n1.0 2.0 3.0 -0.5 cl\n"
    let frame = try XCTUnwrap(ExtendedXYZ.parse(text, fileName: "alias.xyz").first)
    XCTAssertEqual(frame.species, ["Cl"])
    XCTAssertEqual(frame.positions, [1, 2, 3])
    XCTAssertEqual(frame.arrays, [ExtendedXYZProperty(name: "charge", width: 1, values: .reals([-0.5]))])
  }

  // MARK: - Writing

  func testFormatMirrorsASELayout() {
    let frame = ExtendedXYZFrame(
      species: ["Si", "C"], positions: [0, 0.5, 1e-05, 1, 2, 3],
      lattice: [5.44, 0, 0, 0, 5.44, 0, 0, 0, 5.44],
      info: ["config": .string("perfect_lattice"), "energy": .double(-3), "note": .string("two words"),
             "step": .integer(7), "done": .bool(true), "virial": .doubles([1, 2, 3, 4, 5, 6, 7, 8, 9])],
      arrays: [ExtendedXYZProperty(name: "forces", width: 3, values: .reals([1, -2, 0.25, 0, 0, 0])),
               ExtendedXYZProperty(name: "move_mask", width: 1, values: .logicals([true, false]))])

    XCTAssertEqual(ExtendedXYZ.format([frame]), """
      2
      Lattice="5.44 0.0 0.0 0.0 5.44 0.0 0.0 0.0 5.44" Properties=species:S:1:pos:R:3:forces:R:3:move_mask:L:1 \
      config=perfect_lattice energy=-3.0 note="two words" step=7 done=T \
      virial="1.0 2.0 3.0 4.0 5.0 6.0 7.0 8.0 9.0" pbc="T T T"
      Si 0.0 0.5 1e-05 1.0 -2.0 0.25 T
      C 1.0 2.0 3.0 0.0 0.0 0.0 F

      """)
  }

  func testFormatWithoutLatticeOmitsIt() {
    let frame = ExtendedXYZFrame(species: ["He"], positions: [1, 2, 3])
    XCTAssertEqual(ExtendedXYZ.format([frame]),
                   "1\nProperties=species:S:1:pos:R:3 pbc=\"F F F\"\nHe 1.0 2.0 3.0\n")
  }

  func testRoundTripKeepsEveryBit() throws {
    let awkward = [0.1 + 0.2, 1e-300, -0.0, 123456789.123456789, Double.leastNonzeroMagnitude,
                   -Double.greatestFiniteMagnitude, 1e16, 2.0 / 3.0]
    var first = ExtendedXYZFrame(
      species: ["Fe", "Ni"], positions: Array(awkward[0..<6]),
      lattice: [0.1 + 0.2, -0.0, 1e-300, 0, 7.25, 2.0 / 3.0, 1e-05, 0, 123456789.123456789],
      pbc: [true, false, true],
      info: ["energy": .double(-0.0), "tiny": .double(1e-300), "list": .doubles(awkward), "count": .integer(-42),
             "ids": .integers([3, 1, 2]), "ok": .bool(false), "mask": .bools([true, false]),
             "phrase": .string("two words"), "symbols": .string(#"quote " backslash \ braces {x} [y] a=b 'z'"#),
             "two words": .string("spaced key")])
    first.setMatrix3x3([0.1 + 0.2, 1, 2, 3, 4, 5, 6, 7, 1e-300], for: "virial")
    first.arrays = [
      ExtendedXYZProperty(name: "forces", width: 3, values: .reals(Array(awkward[2..<8]))),
      ExtendedXYZProperty(name: "tags", width: 1, values: .integers([Int.min, Int.max])),
      ExtendedXYZProperty(name: "names", width: 2, values: .strings(["a", "b=c", "\"d\"", "e"])),
      ExtendedXYZProperty(name: "fixed", width: 3, values: .logicals([true, false, true, false, false, true])),
    ]
    let second = ExtendedXYZFrame(species: ["H"], positions: [0.1, 0.2, 0.3])

    let text = ExtendedXYZ.format([first, second])
    let parsed = try ExtendedXYZ.parse(text, fileName: "round-trip.xyz")

    XCTAssertEqual(parsed, [first, second])
    XCTAssertEqual(parsed.map(realBitPatterns), [first, second].map(realBitPatterns))
    XCTAssertEqual(ExtendedXYZ.format(parsed), text)
  }

  // MARK: - Errors

  func testErrorsNameFileAndLine() {
    let cases: [(text: String, expected: String)] = [
      ("two\n\nH 0 0 0\n", #"configs.xyz:1: expected an atom count (a non-negative integer), found "two""#),
      ("1\n\nH 0 0 0\n2.5\n", #"configs.xyz:4: expected an atom count (a non-negative integer), found "2.5""#),
      ("-1\n\n", #"configs.xyz:1: expected an atom count (a non-negative integer), found "-1""#),
      ("1", "configs.xyz:2: expected a comment line, found the end of the file"),
      ("3\n\nH 0 0 0\n", "configs.xyz:4: expected 3 atom lines, found the end of the file after 1"),
      ("1\n\nH 0 0\n", "configs.xyz:3: expected 4 columns (Properties=species:S:1:pos:R:3), found 3"),
      ("1\n\nH 0 0 0 0\n", "configs.xyz:3: expected 4 columns (Properties=species:S:1:pos:R:3), found 5"),
      ("1\n\nH 0 1.2.3 0\n", #"configs.xyz:3: expected a real number in column 3 (pos), found "1.2.3""#),
      ("1\n\nH 0 0x10 0\n", #"configs.xyz:3: expected a real number in column 3 (pos), found "0x10""#),
      ("1\nProperties=species:S:1:pos:R:3:tag:I:1\nH 0 0 0 1.0\n",
       #"configs.xyz:3: expected an integer in column 5 (tag), found "1.0""#),
      ("1\nProperties=species:S:1:pos:R:3:fixed:L:1\nH 0 0 0 yes\n",
       #"configs.xyz:3: expected T or F in column 5 (fixed), found "yes""#),
      ("1\nProperties=species:S:1:pos:R:3:forces:X:3\nH 0 0 0 0 0 0\n",
       #"configs.xyz:2: unknown property type "X" for forces in Properties, expected R, I, S or L"#),
      ("1\nProperties=species:S:1:pos:R\nH 0 0 0\n",
       #"configs.xyz:2: expected name:type:width triples in Properties, found "species:S:1:pos:R""#),
      ("1\nProperties=species:S:1:pos:R:0\nH\n",
       #"configs.xyz:2: expected a positive column count for pos in Properties, found "0""#),
      ("1\nProperties=pos:R:3\n0 0 0\n",
       #"configs.xyz:2: expected one species:S:1 column in Properties, found "pos:R:3""#),
      ("1\nProperties=species:S:1:pos:R:2\nH 0 0\n",
       #"configs.xyz:2: expected one pos:R:3 column in Properties, found "species:S:1:pos:R:2""#),
      ("1\nLattice=\"1 0 0 0 1 0\"\nH 0 0 0\n",
       #"configs.xyz:2: expected 9 finite numbers in Lattice, found "1 0 0 0 1 0""#),
      ("1\nLattice=\"1 0 0 0 1 0 0 0 inf\"\nH 0 0 0\n",
       #"configs.xyz:2: expected 9 finite numbers in Lattice, found "1 0 0 0 1 0 0 0 inf""#),
      ("1\npbc=\"T F\"\nH 0 0 0\n", #"configs.xyz:2: expected 3 flags (T or F) in pbc, found "T F""#),
      ("1\npbc=\"T F yes\"\nH 0 0 0\n", #"configs.xyz:2: expected 3 flags (T or F) in pbc, found "T F yes""#),
      ("1\nvirial=\"1 2 3 4 5 6 7 8\"\nH 0 0 0\n",
       #"configs.xyz:2: expected 9 numbers in virial (a 3×3 matrix), found "1 2 3 4 5 6 7 8""#),
      ("1\nname=\"open\nH 0 0 0\n",
       #"configs.xyz:2: expected a closing " in the comment line, found the end of the line"#),
      ("1\n=5\nH 0 0 0\n", "configs.xyz:2: expected a key before '=' in the comment line"),
      ("2\n\nH 0 0 0\nH 0 nan 0\n", "configs.xyz:4: expected finite coordinates for atom 2, found y = nan"),
      ("1\n\nH 0 0 -inf\n", "configs.xyz:3: expected finite coordinates for atom 1, found z = -inf"),
      ("1\n\nH 0 0 0\n\n1\n\nH 0 0 0\n",
       "configs.xyz:4: expected an atom count, found a blank line followed by more data"),
    ]
    for (text, expected) in cases {
      XCTAssertThrowsError(try ExtendedXYZ.parse(text, fileName: "configs.xyz"), "parsing \(text.debugDescription)") {
        XCTAssertEqual(($0 as? ExtendedXYZError)?.description, expected)
      }
    }
  }

  func testReadingAMissingFileNamesIt() throws {
    let directory = try makeScratchDirectory("extxyz-missing")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("absent.xyz").path
    XCTAssertThrowsError(try ExtendedXYZ.read(contentsOf: path)) {
      XCTAssertEqual(($0 as? ExtendedXYZError)?.description,
                     "\(path): cannot open for reading: No such file or directory")
    }
  }

  func testFileErrorsCarryThePathGiven() throws {
    let directory = try makeScratchDirectory("extxyz-read-error")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("bad.xyz").path
    try "1\n\nH 0 0\n".write(toFile: path, atomically: false, encoding: .utf8)
    XCTAssertThrowsError(try ExtendedXYZ.read(contentsOf: path)) {
      XCTAssertEqual(($0 as? ExtendedXYZError)?.description,
                     "\(path):3: expected 4 columns (Properties=species:S:1:pos:R:3), found 3")
    }
  }

  // MARK: - Atomic writing

  func testWriteReplacesDestinationAndLeavesNoTemporaryFile() throws {
    let directory = try makeScratchDirectory("extxyz-write")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("configs.xyz").path
    try "stale content that is longer than the new file will be, to catch any truncation problem\n"
      .write(toFile: path, atomically: false, encoding: .utf8)
    let frames = [ExtendedXYZFrame(species: ["Cu"], positions: [0.1, 0.2, 0.3],
                                   lattice: [3.6, 0, 0, 0, 3.6, 0, 0, 0, 3.6], info: ["energy": .double(-3.5)])]

    try ExtendedXYZ.write(frames, to: path)

    XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), ExtendedXYZ.format(frames))
    XCTAssertEqual(try ExtendedXYZ.read(contentsOf: path), frames)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["configs.xyz"])
  }

  func testFailedWriteLeavesNothingBehind() throws {
    let directory = try makeScratchDirectory("extxyz-write-fails")
    defer { try? FileManager.default.removeItem(at: directory) }
    let frames = [ExtendedXYZFrame(species: ["Cu"], positions: [0, 0, 0])]

    // Renaming a file over a non-empty directory fails after the temporary file was written.
    let occupied = directory.appendingPathComponent("occupied.xyz")
    try FileManager.default.createDirectory(at: occupied.appendingPathComponent("inside"),
                                            withIntermediateDirectories: true)
    XCTAssertThrowsError(try ExtendedXYZ.write(frames, to: occupied.path)) {
      XCTAssertTrue(String(describing: $0).hasPrefix("\(occupied.path): cannot rename "), "\($0)")
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["occupied.xyz"])

    let missingDirectory = directory.appendingPathComponent("missing/configs.xyz").path
    XCTAssertThrowsError(try ExtendedXYZ.write(frames, to: missingDirectory)) {
      XCTAssertTrue(String(describing: $0).hasPrefix("\(missingDirectory): cannot create the temporary file"), "\($0)")
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["occupied.xyz"])
  }

  // MARK: - 3×3 matrices

  func testVirialAndStressAreColumnMajorInTheFile() throws {
    let text = """
      1
      virial="1 2 3 4 5 6 7 8 9" stress="0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9" other="1 2 3 4 5 6 7 8 9" energy=1.0
      H 0 0 0
      """
    var frame = try XCTUnwrap(ExtendedXYZ.parse(text, fileName: "matrices.xyz").first)

    XCTAssertEqual(frame.info["virial"], .integers([1, 2, 3, 4, 5, 6, 7, 8, 9]), "info keeps file order")
    XCTAssertEqual(frame.matrix3x3("virial"), [1, 4, 7, 2, 5, 8, 3, 6, 9])
    XCTAssertEqual(frame.matrix3x3("stress"), [0.1, 0.4, 0.7, 0.2, 0.5, 0.8, 0.3, 0.6, 0.9])
    XCTAssertNil(frame.matrix3x3("other"), "ASE treats only virial and stress (and Lattice) as matrices")
    XCTAssertNil(frame.matrix3x3("energy"))
    XCTAssertNil(ExtendedXYZFrame(species: [], positions: []).matrix3x3("virial"))

    frame.setMatrix3x3([11, 12, 13, 21, 22, 23, 31, 32, 33], for: "virial")
    XCTAssertEqual(frame.info["virial"], .doubles([11, 21, 31, 12, 22, 32, 13, 23, 33]))
    XCTAssertEqual(frame.info.keys, ["virial", "stress", "other", "energy"])
    XCTAssertTrue(ExtendedXYZ.format([frame]).contains(#"virial="11.0 21.0 31.0 12.0 22.0 32.0 13.0 23.0 33.0""#))
    let reread = try XCTUnwrap(ExtendedXYZ.parse(ExtendedXYZ.format([frame]), fileName: "again.xyz").first)
    XCTAssertEqual(reread.matrix3x3("virial"), [11, 12, 13, 21, 22, 23, 31, 32, 33])
  }
}

/// Every real of a frame as bits, in a fixed order, so -0.0 and 0.0 differ.
private func realBitPatterns(_ frame: ExtendedXYZFrame) -> [UInt64] {
  var reals = frame.positions + (frame.lattice ?? [])
  for entry in frame.info {
    switch entry.value {
    case .double(let real): reals.append(real)
    case .doubles(let list): reals += list
    default: break
    }
  }
  for property in frame.arrays {
    if case .reals(let list) = property.values { reals += list }
  }
  return reals.map(\.bitPattern)
}
