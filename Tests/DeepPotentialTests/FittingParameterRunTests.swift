import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// `pair_style deepmd MODEL… fparam V…` / `aparam V…` in decks (FittingParameterTests' models):
/// DeePMD-kit's energies and forces on the reference configurations on 1 and 4 ranks, MD thermo
/// independent of the rank count, an ensemble's deviation file against DeePMD-kit's forces and
/// virials, and the deck's refusals.
final class FittingParameterRunTests: XCTestCase, CuAgDeckRunning {
  /// A LAMMPS data file of a periodic reference frame whose cell LAMMPS can hold (a along x, b in
  /// the xy plane); Cu type 1, Ag type 2.
  private func dataFile(_ frame: ExtendedXYZFrame) -> String? {
    guard let l = frame.lattice, frame.pbc == [true, true, true], l[1] == 0, l[2] == 0, l[5] == 0 else { return nil }
    var text = "reference configuration\n\n\(frame.atomCount) atoms\n2 atom types\n\n"
    text += "0 \(l[0]) xlo xhi\n0 \(l[4]) ylo yhi\n0 \(l[8]) zlo zhi\n\(l[3]) \(l[6]) \(l[7]) xy xz yz\n\n"
    text += "Masses\n\n1 63.546\n2 107.8682\n\nAtoms # atomic\n\n"
    for i in 0..<frame.atomCount {
      let p = frame.positions[(3 * i)..<(3 * i + 3)].map { String($0) }.joined(separator: " ")
      text += "\(i + 1) \(frame.species[i] == "Cu" ? 1 : 2) \(p)\n"
    }
    return text
  }

  private func deck(_ pairStyle: String) -> String {
    """
    units metal
    atom_style atomic
    read_data frame.data
    pair_style deepmd \(pairStyle)
    pair_coeff * * Cu Ag
    neighbor 1.0 bin
    dump 1 all custom 1 forces.dump id fx fy fz
    dump_modify 1 format float %.17g
    thermo_style custom step pe
    thermo_modify format float %.17g
    run 0
    """
  }

  private static func keywords(_ frame: ExtendedXYZFrame) -> String {
    let (fparam, aparam) = frame.parameters
    var words: [String] = []
    if let fparam { words.append("fparam " + fparam.map { "\($0)" }.joined(separator: " ")) }
    if let aparam { words.append("aparam " + aparam.map { "\($0)" }.joined(separator: " ")) }
    return words.joined(separator: " ")
  }

  func testReferenceConfigurationsMatchDeePMDKitOnOneAndFourRanks() throws {
    for (name, suffix) in [("cuag_fparam", "dp"), ("cuag_fparam2", "pb"), ("cuag_aparam", "pb")] {
      var checked = 0
      for frame in try FittingParameterTests.references(name) {
        guard let data = dataFile(frame) else { continue }
        let label = frame.label(model: name)
        guard case .double(let energy)? = frame.info["energy"],
              case .reals(let forces)? = frame.property(named: "forces")?.values else { return XCTFail("\(label): reference incomplete") }
        let scale = max(forces.map(abs).max()!, 1e-3)
        for ranks in [1, 4] {
          let dir = try makeScratchDirectory("fparam-\(name)-\(checked)-\(ranks)")
          try data.write(to: dir.appendingPathComponent("frame.data"), atomically: true, encoding: .utf8)
          let result = try runDeck(deck("\(FittingParameterTests.path(name, suffix)) \(Self.keywords(frame))"), named: "in.deck",
                                   ranks: ranks, in: dir)
          XCTAssertEqual(result.status, 0, result.combined)
          XCTAssertTrue(result.output.contains("Deep Potential parameters: \(Self.keywords(frame).replacingOccurrences(of: " aparam", with: ", aparam"))"),
                        result.output)
          let pe = try XCTUnwrap(thermoRows(result.output).first?["PotEng"], result.output)
          XCTAssertEqual(pe, energy, accuracy: 1e-10 * abs(energy), "\(label), \(ranks) ranks")
          let dump = try String(contentsOf: dir.appendingPathComponent("forces.dump"), encoding: .utf8)
          let rows = dump.split(separator: "\n").drop { !$0.hasPrefix("ITEM: ATOMS") }.dropFirst()
          XCTAssertEqual(rows.count, frame.atomCount, label)
          for row in rows {
            let w = row.split(separator: " ").compactMap { Double($0) }
            let i = Int(w[0]) - 1
            for c in 0..<3 {
              XCTAssertEqual(w[1 + c], forces[3 * i + c], accuracy: 1e-10 * scale, "\(label), \(ranks) ranks, atom \(i + 1)")
            }
          }
        }
        checked += 1
      }
      XCTAssertGreaterThanOrEqual(checked, 4, "\(name): periodic reference configurations a LAMMPS box can hold")
    }
  }

  /// NVE with `fparam 0.3`: thermo on 2 and 4 ranks equal to 1 rank's to 1e-10.
  func testThermoIsIndependentOfRankCount() throws {
    try assertRankIndependent(model: "cuag_fparam", keywords: "fparam 0.3", cells: 3, steps: 30, ranks: [4])
    try assertRankIndependent(model: "cuag_aparam", keywords: "aparam 0.45", cells: 2, steps: 30, ranks: [2])
  }

  /// `pair_style deepmd a.dp b.pb fparam V out_freq 1 out_file F`: one fparam for every model (as
  /// DeePMD-kit's plugin); the step-0 row against the deviation of DeePMD-kit's own forces and
  /// virials of the two models at that fparam (the plugin's definitions: per-atom norm of the
  /// force standard deviation, max/min/mean over atoms; virial/N standard deviation per
  /// component, max/min/RMS over the nine), on 1 and 4 ranks.
  func testEnsembleDeviationMatchesDeePMDKit() throws {
    let a = try FittingParameterTests.references("cuag_fparam")[1], b = try FittingParameterTests.references("cuag_fparam_b")[1]
    XCTAssertEqual(a.info["config"], .string("thermal"))
    XCTAssertEqual(a.parameters.frame, b.parameters.frame)
    let data = try XCTUnwrap(dataFile(a))
    let expected = try Self.deviation(a, b)
    XCTAssertGreaterThan(expected[3], 1e-3, "the two models should disagree")
    let models = "\(FittingParameterTests.path("cuag_fparam")) \(FittingParameterTests.path("cuag_fparam_b", "pb"))"
    for ranks in [1, 4] {
      let dir = try makeScratchDirectory("fparam-ensemble-\(ranks)")
      try data.write(to: dir.appendingPathComponent("frame.data"), atomically: true, encoding: .utf8)
      let result = try runDeck(deck("\(models) \(Self.keywords(a)) out_freq 1 out_file md.out"), named: "in.deck",
                               ranks: ranks, in: dir)
      XCTAssertEqual(result.status, 0, result.combined)
      let text = try String(contentsOf: dir.appendingPathComponent("md.out"), encoding: .utf8)
      let row = try XCTUnwrap(text.split(separator: "\n").first { !$0.hasPrefix("#") }, text)
      let values = row.split(separator: " ").compactMap { Double($0) }
      XCTAssertEqual(values.count, 7, text)
      XCTAssertEqual(values.first, 0)
      for (k, (x, y)) in zip(values.dropFirst(), expected).enumerated() {
        XCTAssertEqual(x, y, accuracy: 1e-5 * abs(y) + 1e-12, "\(ranks) ranks, column \(k + 2) of \(text)")
      }
    }
  }

  /// The plugin's max/min/RMS virial and max/min/mean force deviation of two models' reference values of one frame.
  static func deviation(_ a: ExtendedXYZFrame, _ b: ExtendedXYZFrame) throws -> [Double] {
    guard case .reals(let fa)? = a.property(named: "forces")?.values, case .reals(let fb)? = b.property(named: "forces")?.values,
          let va = a.matrix3x3("virial"), let vb = b.matrix3x3("virial") else {
      throw IncompleteReference(frame: a.label(model: "deviation"))
    }
    let n = a.atomCount
    // Two models: each component's standard deviation is half their difference.
    var forceDeviation = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var sum = 0.0
      for c in 0..<3 {
        let half: Double = (fa[3 * i + c] - fb[3 * i + c]) / 2
        sum += half * half
      }
      forceDeviation[i] = sqrt(sum)
    }
    let virialDeviation: [Double] = (0..<9).map { (k: Int) -> Double in abs(va[k] - vb[k]) / 2 / Double(n) }
    let virialSquares: Double = virialDeviation.map { $0 * $0 }.reduce(0, +)
    let forceSum: Double = forceDeviation.reduce(0, +)
    let expected: [Double] = [virialDeviation.max()!, virialDeviation.min()!, sqrt(virialSquares / 9),
                              forceDeviation.max()!, forceDeviation.min()!, forceSum / Double(n)]
    return expected
  }

  func testDeckRefusals() throws {
    let fparam = FittingParameterTests.path("cuag_fparam"), aparam = FittingParameterTests.path("cuag_aparam", "pb")
    let plain = inputPath("models/cuag_se_e2_r/cuag_se_e2_r.dp")
    let dpa3 = inputPath("models/cuag_dpa3/cuag_dpa3.dp")
    let cases: [(String, String)] = [
      (fparam, "needs 1 frame parameter(s) (numb_fparam 1, no default_fparam); give them: fparam V…"),
      ("\(fparam) fparam", "takes 1 frame parameter(s) (numb_fparam 1), but fparam gives 0"),
      ("\(fparam) fparam 0.3 0.4", "takes 1 frame parameter(s) (numb_fparam 1), but fparam gives 2"),
      ("\(fparam) fparam 0.3 aparam 0.2", "takes no atomic parameters (numb_aparam 0), but aparam gives 1"),
      ("\(aparam) fparam 0.3", "takes no frame parameters (numb_fparam 0), but fparam gives 1"),
      ("\(plain) fparam 0.3", "takes no frame parameters (numb_fparam 0), but fparam gives 1"),
      ("\(fparam) \(aparam) fparam 0.3", "the models of an ensemble need the same"),
      ("\(fparam) fparam_from_fix 1", "keyword 'fparam_from_fix' of DeePMD-kit's pair_style deepmd is not supported by Tessera yet"),
      ("\(fparam) aparam_from_compute 1", "keyword 'aparam_from_compute' of DeePMD-kit's pair_style deepmd is not supported"),
      ("\(dpa3) fparam 0.3", "keyword 'fparam' of pair_style deepmd is not supported for DPA-3 models yet"),
      ("\(fparam) \(dpa3) fparam 0.3", "is a DPA-3 model, which takes no fparam/aparam"),
    ]
    let data = try XCTUnwrap(dataFile(try FittingParameterTests.references("cuag_fparam")[0]))
    for (pairStyle, message) in cases {
      let dir = try makeScratchDirectory("fparam-refusal")
      try data.write(to: dir.appendingPathComponent("frame.data"), atomically: true, encoding: .utf8)
      let result = try runDeck(deck(pairStyle), named: "in.deck", ranks: 1, in: dir)
      assertRunRefused(result, saying: message, pairStyle)
      XCTAssertTrue(result.combined.contains("in.deck:4"), "\(pairStyle): the error names the deck line: \(result.combined)")
    }
  }
}

/// A reference frame without the values a test needs: a failure, never a skip.
struct IncompleteReference: Error { let frame: String }
