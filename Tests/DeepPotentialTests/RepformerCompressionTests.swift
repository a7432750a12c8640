@testable import DeepPotential
import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// Compressed DPA-2 repinit (strip mode): DeePMD-kit's own compressed model
/// (`inputs/models/cuag_dpa2_compressed`, `enable_compression` of cuag_dpa2, references from
/// DeePMD-kit's PyTorch compressed evaluation: tools/dpa2/make_compressed.py), the table built at
/// load against DeePMD-kit's, and the compressed model against the uncompressed one.
final class RepformerCompressionTests: XCTestCase, CuAgDeckRunning {
  static let compressed = "cuag_dpa2_compressed"

  private func load(_ name: String) throws -> RepformerModel {
    try RepformerModel.load(path: ModelEditing.modelPath(name))
  }

  /// The file's table evaluated against DeePMD-kit's evaluation of the same compressed model, in
  /// the library and through `tessera eval`.
  func testDeePMDKitCompressedModelMatches() throws {
    let model = try load(Self.compressed)
    XCTAssertNotNil(model.repinit.radialTable, "the compressed file carries the repinit's radial table")
    XCTAssertEqual(try XCTUnwrap(model.minNeighborDistance), 1.762, accuracy: 1e-3)
    let evaluator = RepformerEvaluator(model: model)
    let reference = try ExtendedXYZ.read(contentsOf: inputPath("models/\(Self.compressed)/fixtures/reference.xyz"))
    XCTAssertEqual(reference.count, 7)
    for frame in reference {
      let result = try evaluator.evaluate(positions: frame.positions, types: frame.types(in: model.typeMap),
                                          cell: frame.periodicCell)
      assertMatches(evaluatedFrame(frame, result), reference: frame, label: "library \(frame.label(model: Self.compressed))")
    }
    let output = try makeScratchDirectory("eval-dpa2-compressed").appendingPathComponent("out.xyz").path
    let result = try runProcess(tesseraBinary, ["eval", "--model", ModelEditing.modelPath(Self.compressed),
                                                 inputPath("models/\(Self.compressed)/fixtures/configs.xyz"), "-o", output])
    XCTAssertEqual(result.status, 0, result.combined)
    let computed = try ExtendedXYZ.read(contentsOf: output)
    XCTAssertEqual(computed.count, reference.count)
    for (c, r) in zip(computed, reference) { assertMatches(c, reference: r, label: "eval \(r.label(model: Self.compressed))") }
  }

  /// Tabulating cuag_dpa2's repinit at the compressed file's min_nbor_dist gives DeePMD-kit's table.
  func testSelfBuiltTableEqualsDeePMDKits() throws {
    let file = try load(Self.compressed)
    let theirs = try XCTUnwrap(file.repinit.radialTable)
    let distance = try XCTUnwrap(file.minNeighborDistance)
    let mine = try XCTUnwrap(try load("cuag_dpa2").tabulated(TabulationSettings(minNeighborDistance: distance)).repinit.radialTable)
    AttentionCompressionTests.assertTablesAgree(mine, theirs)
  }

  /// The compressed model (the file's table) against DeePMD-kit's uncompressed cuag_dpa2 on its
  /// reference configurations: within the reported distance of the table from the network, which
  /// is itself small and not zero; the forces are the derivatives of the tabulated energy.
  func testWithinTheReportedTabulationErrorOfTheUncompressedModel() throws {
    let model = try load(Self.compressed)
    let report = try XCTUnwrap(model.tabulationReport())
    XCTAssertEqual(report.tableCount, 1)
    XCTAssertGreaterThan(report.valueError, 0)
    XCTAssertLessThan(report.valueError, 1e-10)
    XCTAssertLessThan(report.slopeError, 1e-8)
    print("\(Self.compressed): \(report)")
    let evaluator = RepformerEvaluator(model: model)
    let reference = try ExtendedXYZ.read(contentsOf: inputPath("models/cuag_dpa2/fixtures/reference.xyz"))
    XCTAssertEqual(reference.count, 7)
    var worstEnergy = 0.0, worstForce = 0.0
    for frame in reference {
      let result = try evaluator.evaluate(positions: frame.positions, types: frame.types(in: model.typeMap),
                                          cell: frame.periodicCell)
      guard case .double(let energy)? = frame.info["energy"], case .reals(let forces)? = frame.property(named: "forces")?.values,
            forces.count == result.forces.count else { return XCTFail("\(frame.label(model: "cuag_dpa2")): reference incomplete") }
      worstEnergy = max(worstEnergy, abs(result.energy - energy) / Double(frame.atomCount))
      worstForce = max(worstForce, zip(result.forces, forces).map { abs($0 - $1) }.max()!)
    }
    print("\(Self.compressed) vs DeePMD-kit's uncompressed cuag_dpa2: \(worstEnergy) eV/atom, \(worstForce) eV/Å")
    XCTAssertGreaterThan(worstForce, 0, "the table is used")
    // G enters the repinit output linearly and the force through dG/ds: bounded by the report's
    // value and slope errors times the model's (order-one) sensitivities. Measured: 4.4e-16 eV/atom
    // and 1.8e-13 eV/Å against 2.8e-15 in G and 9.2e-14 in dG/ds (DeePMD-kit's own compressed model
    // is as far from its uncompressed one: 3e-16 and 1.3e-13, tools/dpa2/README.md).
    XCTAssertLessThan(worstEnergy, 10 * report.valueError)
    XCTAssertLessThan(worstForce, 10 * report.slopeError)
    let (x, types, cell) = AttentionModelTests.distortedCell()
    try AttentionModelTests.checkDerivatives({ try evaluator.evaluate(positions: $0, types: types, cell: $1) },
                                             x: x, cell: cell, label: "compressed cuag_dpa2")
  }

  /// A repinit in concat mode (cuag_dpa2_avg) has no one-variable embedding to tabulate: refused.
  func testConcatRepinitIsRefused() throws {
    XCTAssertThrowsError(try load("cuag_dpa2_avg").tabulated(TabulationSettings(minNeighborDistance: 2))) { error in
      XCTAssertTrue("\(error)".contains("cuag_dpa2_avg.dp") && "\(error)".contains("tebd_input_mode strip"), "\(error)")
    }
  }

  /// In a deck: a concat repinit, and a model without min_nbor_dist when the deck gives none, are
  /// refused at load with the model named; the DPA-3 path still refuses `compress`.
  func testCompressKeywordRefusals() throws {
    for (model, suffix, message) in [
      ("cuag_dpa2_avg", " compress min_nbor_dist 1.762", "compressing a DPA-2 model needs the repinit in tebd_input_mode strip"),
      ("cuag_dpa2", " compress", "does not record min_nbor_dist"),
      ("cuag_dpa3", " compress", "keyword 'compress' of pair_style deepmd is not supported for DPA-3 models yet"),
    ] {
      let text = deck(model: model, steps: 0).replacingOccurrences(of: "\(model).dp\n", with: "\(model).dp\(suffix)\n")
      XCTAssertTrue(text.contains("\(model).dp\(suffix)\n"))
      let result = try run(text, cells: 1, ranks: 1)
      assertRunRefused(result, saying: message, "\(model)\(suffix)")
      XCTAssertTrue(result.combined.contains("\(model).dp"), result.combined)
    }
  }

  /// `pair_style deepmd cuag_dpa2.dp compress min_nbor_dist 1.762`: thermo on 1 and 4 ranks within
  /// 1e-9 of the uncompressed run (g1 still crosses the ranks per repformer layer).
  func testCompressedDeckOnRanks() throws {
    try assertCompressedDeck(model: "cuag_dpa2", ranks: [1, 4])
  }
}
