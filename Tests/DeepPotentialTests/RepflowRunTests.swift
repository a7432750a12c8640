import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// A DPA-3 model in decks (`pair_style deepmd cuag_dpa3.dp`, run through `RepflowForce`): the node
/// features cross ranks through the halo after every layer, so thermo must not depend on the rank
/// count, also where ghosts are several images deep; and the options the DPA-3 path lacks are refused.
final class RepflowRunTests: XCTestCase, CuAgDeckRunning {
  /// 32 atoms in a 7.7 Å box against a 6 Å ghost cut-off (ghosts reach past the neighbouring
  /// images); 3 repflow layers make every atom depend on atoms three cut-offs away.
  func testThermoIsIndependentOfRankCount() throws {
    try assertRankIndependent(model: "cuag_dpa3", cells: 2, steps: 20, ranks: [2, 3, 4, 8])
  }

  /// 4 atoms in a 3.85 Å cube: every neighbour is an image, and on 3, 4 and 8 ranks the bricks are
  /// thinner than the cut-off (on 8, ranks of one atom or none).
  func testTinyPeriodicBoxWithGhostsSeveralImagesDeep() throws {
    try assertRankIndependent(model: "cuag_dpa3", cells: 1, steps: 20, ranks: [2, 3, 4, 8])
  }

  /// The 32-atom crystal as a slab under 22 Å of vacuum: on 4 ranks split along z, some ranks hold no
  /// atoms and still join every layer's exchanges.
  func testSlabWithRanksHoldingNoAtoms() throws {
    try assertRankIndependent(model: "cuag_dpa3", cells: 2, vacuum: 22, steps: 10, ranks: [4])
  }

  /// The option groups that change the layer math (angular compression by maps and by split,
  /// dynamic-selection normalisation) through the halo on 3 ranks, equal to 1 rank.
  func testOptionGroupsAreIndependentOfRankCount() throws {
    for model in ["cuag_dpa3_compress", "cuag_dpa3_split", "cuag_dpa3_dynamic"] {
      try assertRankIndependent(model: model, cells: 2, steps: 10, ranks: [3])
    }
  }

  /// NVE at 300 K, 1 fs, 32 atoms on 1 rank: over 1,000 steps the total energy stays within 2e-6
  /// eV/atom of its start (measured: 1.8e-7); a non-smooth energy or a wrong gradient through any
  /// layer breaks this. (About 30 s with the release binary on a loaded 2-core machine.)
  func testNVEConservesEnergy() throws {
    let result = try run(deck(model: "cuag_dpa3", steps: 1000, thermoEvery: 50), cells: 2, ranks: 1)
    XCTAssertEqual(result.status, 0, result.combined)
    let rows = thermoRows(result.output)
    guard rows.count == 21 else { return XCTFail("expected 21 thermo rows: \(result.output)") }
    let energies = rows.map { $0["TotEng"]! }
    XCTAssertGreaterThan(rows.last!["Temp"]!, 50, "the system should be moving")
    let drift = energies.map { abs($0 - energies[0]) }.max()! / 32
    print("DPA-3 NVE: largest |E_total − E_0| per atom over 1,000 steps: \(drift) eV")
    XCTAssertLessThan(drift, 2e-6, "energies \(energies)")
  }

  /// `tessera eval` on the reference configurations of every DPA-3 model: energy, per-atom
  /// energies, forces, virial and per-atom virials against DeePMD-kit.
  func testEvalMatchesDeePMDKit() throws {
    let directory = try makeScratchDirectory("eval-dpa3")
    for name in RepflowModelTests.models {
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
    let model = inputPath("models/cuag_dpa3/cuag_dpa3.dp")
    for (suffix, message) in [(" precision float32", "keyword 'precision' of pair_style deepmd is not supported for DPA-3 models yet"),
                              (" \(model) devi_precision float32",
                               "keyword 'devi_precision' of pair_style deepmd is not supported for DPA-3 models yet")] {
      let text = deck(model: "cuag_dpa3", steps: 0).replacingOccurrences(of: "cuag_dpa3.dp\n", with: "cuag_dpa3.dp\(suffix)\n")
      XCTAssertTrue(text.contains("cuag_dpa3.dp\(suffix)\n"))
      assertRunRefused(try run(text, cells: 1, ranks: 1), saying: message, suffix)
    }
  }
}
