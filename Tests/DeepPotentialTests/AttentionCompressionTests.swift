@testable import DeepPotential
import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// Compressed DPA-1 (strip mode): DeePMD-kit's own compressed model
/// (`inputs/models/cuag_se_atten_v2_l0_compressed`, `enable_compression` of cuag_se_atten_v2_l0,
/// references from DeePMD-kit's JAX backend: tools/dpa1/make_compressed.py), tables built at load
/// against DeePMD-kit's, and tables in front of attention layers (which DeePMD-kit does not
/// compress) against the networks they replace.
final class AttentionCompressionTests: XCTestCase, CuAgDeckRunning {
  static let compressed = "cuag_se_atten_v2_l0_compressed"

  private func load(_ name: String) throws -> AttentionModel {
    try AttentionModel.load(path: ModelEditing.modelPath(name))
  }

  /// The file's tables evaluated against DeePMD-kit's evaluation of the same compressed model, in
  /// the library and through `tessera eval`.
  func testDeePMDKitCompressedModelMatches() throws {
    let model = try load(Self.compressed)
    XCTAssertNotNil(model.radialTable, "the compressed file carries the radial table")
    XCTAssertEqual(try XCTUnwrap(model.minNeighborDistance), 1.762, accuracy: 1e-3)
    let evaluator = AttentionEvaluator(model: model)
    let reference = try ExtendedXYZ.read(contentsOf: inputPath("models/\(Self.compressed)/fixtures/reference.xyz"))
    XCTAssertEqual(reference.count, 7)
    for frame in reference {
      let result = try evaluator.evaluate(positions: frame.positions, types: frame.types(in: model.typeMap),
                                          cell: frame.periodicCell)
      assertMatches(evaluatedFrame(frame, result), reference: frame, label: "library \(frame.label(model: Self.compressed))")
    }
    let output = try makeScratchDirectory("eval-dpa1-compressed").appendingPathComponent("out.xyz").path
    let result = try runProcess(tesseraBinary, ["eval", "--model", ModelEditing.modelPath(Self.compressed),
                                                 inputPath("models/\(Self.compressed)/fixtures/configs.xyz"), "-o", output])
    XCTAssertEqual(result.status, 0, result.combined)
    let computed = try ExtendedXYZ.read(contentsOf: output)
    XCTAssertEqual(computed.count, reference.count)
    for (c, r) in zip(computed, reference) { assertMatches(c, reference: r, label: "eval \(r.label(model: Self.compressed))") }
  }

  /// Tabulating cuag_se_atten_v2_l0 at the compressed file's min_nbor_dist gives DeePMD-kit's
  /// table: the same grid, and coefficients equal up to the round-off of the network's
  /// derivatives (1e-13 of the node data, scaled by step^q for the power q).
  func testSelfBuiltTableEqualsDeePMDKits() throws {
    let theirs = try XCTUnwrap(try load(Self.compressed).radialTable)
    let distance = try XCTUnwrap(try load(Self.compressed).minNeighborDistance)
    let mine = try XCTUnwrap(try load("cuag_se_atten_v2_l0").tabulated(TabulationSettings(minNeighborDistance: distance)).radialTable)
    Self.assertTablesAgree(mine, theirs)
  }

  /// The same grid, and coefficients equal up to the round-off of the network's derivatives (1e-13
  /// of the node data, scaled by step^q for the power q).
  static func assertTablesAgree(_ mine: EmbeddingTable, _ theirs: EmbeddingTable,
                                file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual([mine.lower, mine.upper, mine.maximum, mine.fineStep, mine.coarseStep],
                   [theirs.lower, theirs.upper, theirs.maximum, theirs.fineStep, theirs.coarseStep], file: file, line: line)
    XCTAssertEqual(mine.intervalCount, theirs.intervalCount, file: file, line: line)
    guard mine.coefficients.count == theirs.coefficients.count else {
      return XCTFail("\(mine.coefficients.count) coefficients against \(theirs.coefficients.count)", file: file, line: line)
    }
    let width = mine.width, fineCount = Int((mine.upper - mine.lower) / mine.fineStep)
    var worst = 0.0
    for l in 0..<mine.intervalCount {
      let step = l < fineCount ? mine.fineStep : mine.coarseStep
      var scale = 0.0
      for m in 0..<width {
        for q in 0..<3 { scale = max(scale, abs(theirs.coefficients[(l * 6 + q) * width + m]) * pow(step, Double(q))) }
      }
      for q in 0..<6 {
        for m in 0..<width {
          let at = (l * 6 + q) * width + m
          worst = max(worst, abs(mine.coefficients[at] - theirs.coefficients[at]) * pow(step, Double(q)) / scale)
        }
      }
    }
    XCTAssertLessThan(worst, 1e-13, "largest coefficient difference, relative to the node data", file: file, line: line)
  }

  /// Tables in front of two attention layers (cuag_se_atten_v2_l2): the report bounds the table,
  /// the energies and forces stay within 1e-11 of DeePMD-kit's uncompressed model, and the forces
  /// and virial are the derivatives of the tabulated energy.
  func testTablesInFrontOfAttentionLayers() throws {
    let plain = try load("cuag_se_atten_v2_l2")
    let tabulated = try plain.tabulated(TabulationSettings(minNeighborDistance: 1.762))
    let report = try XCTUnwrap(tabulated.tabulationReport())
    XCTAssertEqual(report.tableCount, 1)
    XCTAssertGreaterThan(report.valueError, 0)
    XCTAssertLessThan(report.valueError, 1e-10)
    XCTAssertLessThan(report.slopeError, 1e-8)
    print("cuag_se_atten_v2_l2 tabulated: \(report)")
    let evaluator = AttentionEvaluator(model: tabulated)
    let reference = try ExtendedXYZ.read(contentsOf: inputPath("models/cuag_se_atten_v2_l2/fixtures/reference.xyz"))
    XCTAssertEqual(reference.count, 7)
    var worstEnergy = 0.0, worstForce = 0.0
    for frame in reference {
      let result = try evaluator.evaluate(positions: frame.positions, types: frame.types(in: plain.typeMap),
                                          cell: frame.periodicCell)
      guard case .double(let energy)? = frame.info["energy"], case .reals(let forces)? = frame.property(named: "forces")?.values,
            forces.count == result.forces.count else { return XCTFail("\(frame.label(model: "l2")): reference incomplete") }
      worstEnergy = max(worstEnergy, abs(result.energy - energy) / Double(frame.atomCount))
      worstForce = max(worstForce, zip(result.forces, forces).map { abs($0 - $1) }.max()!)
    }
    print("cuag_se_atten_v2_l2 tabulated vs DeePMD-kit's network: \(worstEnergy) eV/atom, \(worstForce) eV/Å")
    XCTAssertGreaterThan(worstForce, 0, "the table is used")
    // Measured 9e-16 eV/atom and 1.9e-13 eV/Å, with 2e-13 in dG/ds.
    XCTAssertLessThan(worstEnergy, 1e-11)
    XCTAssertLessThan(worstForce, 1e-11)
    let (x, types, cell) = AttentionModelTests.distortedCell()
    try AttentionModelTests.checkDerivatives({ try evaluator.evaluate(positions: $0, types: types, cell: $1) },
                                             x: x, cell: cell, label: "tabulated cuag_se_atten_v2_l2")
  }

  /// Concat mode has no one-variable embedding to tabulate: refused, naming the mode.
  func testConcatModeIsRefused() throws {
    XCTAssertThrowsError(try load("cuag_se_atten_concat").tabulated(TabulationSettings(minNeighborDistance: 2))) { error in
      XCTAssertTrue("\(error)".contains("cuag_se_atten_concat.dp") && "\(error)".contains("strip"), "\(error)")
    }
  }

  /// `pair_style deepmd MODEL compress min_nbor_dist D` with attention layers: the table report at
  /// load, thermo on 2 and 4 ranks equal to 1 rank, and within 1e-9 of the uncompressed run.
  func testCompressedDeckOnRanks() throws {
    try assertCompressedDeck(model: "cuag_se_atten_v2_l2", ranks: [1, 2, 4])
  }
}

extension CuAgDeckRunning {
  /// `pair_style deepmd MODEL.dp compress min_nbor_dist 1.762` over 20 steps: the table report at
  /// load, thermo on every rank count of `ranks` (the first 1) within 1e-9 of the uncompressed run
  /// and within 1e-10 of the first compressed one.
  func assertCompressedDeck(model: String, ranks: [Int], file: StaticString = #filePath, line: UInt = #line) throws {
    let plain = deck(model: model, steps: 20)
    let text = plain.replacingOccurrences(of: "\(model).dp\n", with: "\(model).dp compress min_nbor_dist 1.762\n")
    XCTAssertNotEqual(text, plain, file: file, line: line)
    let uncompressed = try run(plain, cells: 2, ranks: 1)
    XCTAssertEqual(uncompressed.status, 0, uncompressed.combined, file: file, line: line)
    let expected = thermoRows(uncompressed.output)
    XCTAssertEqual(expected.count, 3, file: file, line: line)
    var first: [[String: Double]]? = nil
    for count in ranks {
      let result = try run(text, cells: 2, ranks: count)
      XCTAssertEqual(result.status, 0, result.combined, file: file, line: line)
      XCTAssertTrue(result.output.contains("Deep Potential tables built at load") && result.output.contains("1 table,"),
                    result.output, file: file, line: line)
      let rows = thermoRows(result.output)
      XCTAssertEqual(rows.count, expected.count, result.output, file: file, line: line)
      for (a, b) in zip(first ?? expected, rows) {
        for key in ["PotEng", "TotEng", "Press"] {
          let bound = first == nil ? 1e-9 : 1e-10
          XCTAssertLessThan(abs(a[key]! - b[key]!) / abs(a[key]!), bound, "\(model), \(count) ranks, step \(a["Step"]!), \(key)",
                            file: file, line: line)
        }
      }
      if first == nil { first = rows }
    }
  }
}
