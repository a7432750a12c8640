import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// A DPA-2 model in decks (`pair_style deepmd cuag_dpa2.dp`, run through `MessagePassingForce`):
/// g1 crosses ranks through the halo before every repformer layer, so thermo must not depend on the
/// rank count, also where ghosts are several images deep and where ranks hold no atoms; `tessera
/// eval` matches DeePMD-kit; the options the DPA-2 path lacks are refused. (Its deviation ensembles:
/// TeacherStudentTests; its compressed repinit: RepformerCompressionTests.)
final class RepformerRunTests: XCTestCase, CuAgDeckRunning {
  /// 32 atoms in a 7.7 Å box against a 6 Å ghost cut-off; two repformer layers (rcut 3.5) after the
  /// repinit (rcut 5) make every atom depend on atoms 12 Å away, through forwarded g1.
  func testThermoIsIndependentOfRankCount() throws {
    try assertRankIndependent(model: "cuag_dpa2", cells: 2, steps: 10, ranks: [2, 3, 4, 8])
  }

  /// 4 atoms in a 3.85 Å cube: every neighbour is an image; on 4 and 8 ranks the bricks are thinner
  /// than the cut-off (on 8, ranks of one atom or none). The three-body model, other update style.
  func testTinyPeriodicBoxWithGhostsSeveralImagesDeep() throws {
    try assertRankIndependent(model: "cuag_dpa2_avg", cells: 1, steps: 10, ranks: [2, 4, 8])
  }

  /// The 32-atom crystal as a slab under 22 Å of vacuum: on 4 ranks split along z, some ranks hold no
  /// atoms and still join every layer's exchanges.
  func testSlabWithRanksHoldingNoAtoms() throws {
    try assertRankIndependent(model: "cuag_dpa2", cells: 2, vacuum: 22, steps: 10, ranks: [4])
  }

  /// NVE at 300 K, 1 fs, 32 atoms on 2 ranks: over 1,000 steps the total energy stays within the
  /// bound per atom of its start (measured: 5.4e-6, a bounded oscillation of this barely trained, highly
  /// compressed model, not a drift); a non-smooth energy or a wrong gradient through any layer breaks
  /// this. (About a minute with the release binary on a loaded 2-core machine.)
  func testNVEConservesEnergy() throws {
    try assertConservesEnergy(model: "cuag_dpa2", bound: 2e-5)
  }

  /// `tessera eval` on the reference configurations of every DPA-2 model against DeePMD-kit.
  func testEvalMatchesDeePMDKit() throws {
    let directory = try makeScratchDirectory("eval-dpa2")
    for name in RepformerModelTests.models {
      let output = directory.appendingPathComponent("\(name).xyz").path
      let result = try runProcess(tesseraBinary, ["eval", "--model", inputPath("models/\(name)/\(name).dp"),
                                                   inputPath("models/\(name)/fixtures/configs.xyz"), "-o", output])
      XCTAssertEqual(result.status, 0, result.combined)
      XCTAssertTrue(result.error.contains("WARNING:") && result.error.contains("than sel 60"), result.combined)
      let computed = try ExtendedXYZ.read(contentsOf: output)
      let reference = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
      XCTAssertEqual(reference.count, 7, name)
      XCTAssertEqual(computed.count, reference.count, name)
      var worst: [String: Double] = [:]
      for (c, r) in zip(computed, reference) {
        let label = "eval \(r.label(model: name))"
        guard case .double(let energy)? = c.info["energy"], case .reals(let energies)? = c.property(named: "energies")?.values,
              case .reals(let forces)? = c.property(named: "forces")?.values, let virial = c.matrix3x3("virial"),
              case .reals(let atomVirials)? = c.property(named: "atom_virial")?.values else {
          XCTFail("\(label): output values missing")
          continue
        }
        RepflowModelTests.assertMatchesDeePMDKit(energy: energy, atomEnergies: energies, forces: forces, virial: virial,
                                                 atomVirials: atomVirials, reference: r, label: label, worst: &worst)
      }
    }
  }

  func testUnsupportedOptionsAreRefused() throws {
    for (suffix, message) in [(" precision float32", "keyword 'precision' of pair_style deepmd is not supported for DPA-2 models yet"),
                              (" threads 2", "keyword 'threads' of pair_style deepmd is not supported for DPA-2 models yet")] {
      let text = deck(model: "cuag_dpa2", steps: 0).replacingOccurrences(of: "cuag_dpa2.dp\n", with: "cuag_dpa2.dp\(suffix)\n")
      XCTAssertTrue(text.contains("cuag_dpa2.dp\(suffix)\n"))
      assertRunRefused(try run(text, cells: 1, ranks: 1), saying: message, suffix)
    }
  }
}
