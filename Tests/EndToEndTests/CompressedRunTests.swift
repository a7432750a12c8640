import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// `pair_style deepmd … compress` in decks: DeePMD-kit's uncompressed results on the periodic
/// reference configurations on 1 and 4 ranks, energy conservation, and the deck's errors.
final class CompressedRunTests: XCTestCase {
  let model = inputPath("models/cu_se_e2_a/cu_se_e2_a.dp")
  /// min_nbor_dist of the copper training data, as `dp compress` recorded it.
  let distance = "2.0129867224877644"

  /// A LAMMPS data file of a periodic frame whose cell LAMMPS can hold (a along x, b in the xy plane).
  private func dataFile(_ frame: ExtendedXYZFrame) -> String? {
    guard let l = frame.lattice, frame.pbc == [true, true, true], l[1] == 0, l[2] == 0, l[5] == 0 else { return nil }
    var text = "reference configuration\n\n\(frame.atomCount) atoms\n1 atom types\n\n"
    text += "0 \(l[0]) xlo xhi\n0 \(l[4]) ylo yhi\n0 \(l[8]) zlo zhi\n\(l[3]) \(l[6]) \(l[7]) xy xz yz\n\nAtoms # atomic\n\n"
    for i in 0..<frame.atomCount {
      let p = frame.positions[(3 * i)..<(3 * i + 3)].map { String($0) }.joined(separator: " ")
      text += "\(i + 1) 1 \(p)\n"
    }
    return text
  }

  private func deck(_ pairStyle: String) -> String {
    """
    units metal
    boundary p p p
    atom_style atomic
    read_data frame.data
    mass 1 63.546
    pair_style deepmd \(pairStyle)
    pair_coeff * * Cu
    neighbor 1.0 bin
    dump 1 all custom 1 forces.dump id fx fy fz
    dump_modify 1 format float %.17g
    thermo_style custom step pe
    thermo_modify format float %.17g
    run 0
    """
  }

  func testSelfBuiltTablesMatchDeePMDKitOnOneAndFourRanks() throws {
    try assertMatchesDeePMDKit("compress min_nbor_dist \(distance)", energy: { _, _ in 1e-6 }, forces: 1e-6)
  }

  /// `precision float32` with the networks and with built tables: the energy within 1e-5 of its
  /// magnitude of DeePMD-kit's, with 1e-6 eV/atom for the perfect lattice where E ≈ 0
  /// (`SinglePrecisionTests`), plus the tables' 1e-6 eV; forces within 5e-6 eV/Å (plus 1e-6).
  func testFloat32MatchesDeePMDKitOnOneAndFourRanks() throws {
    try assertMatchesDeePMDKit("precision float32", energy: { max(1e-5 * abs($0), 1e-6 * Double($1)) }, forces: 5e-6)
    try assertMatchesDeePMDKit("compress min_nbor_dist \(distance) precision float32",
                               energy: { max(1e-5 * abs($0), 1e-6 * Double($1)) + 1e-6 }, forces: 6e-6)
  }

  /// The deck `pair_style deepmd MODEL keywords` on every periodic reference configuration a LAMMPS
  /// box can hold, on 1 and 4 ranks, against DeePMD-kit's energy and forces.
  private func assertMatchesDeePMDKit(_ keywords: String, energy tolerance: (Double, Int) -> Double, forces forceTolerance: Double,
                                      file: StaticString = #filePath, line: UInt = #line) throws {
    let frames = try ExtendedXYZ.read(contentsOf: inputPath("models/cu_se_e2_a/fixtures/reference.xyz"))
    var checked = 0
    for frame in frames {
      guard let data = dataFile(frame) else { continue }
      let label = frame.info["config"].map { "\($0)" } ?? "?"
      guard case .double(let energy)? = frame.info["energy"],
            case .reals(let forces)? = frame.property(named: "forces")?.values else { return XCTFail("\(label): reference incomplete") }
      for ranks in [1, 4] {
        let dir = try makeScratchDirectory("deck-\(checked)-\(ranks)")
        try data.write(to: dir.appendingPathComponent("frame.data"), atomically: true, encoding: .utf8)
        let result = try runDeck(deck("\(model) \(keywords)"), named: "in.deck", ranks: ranks, in: dir)
        XCTAssertEqual(result.status, 0, result.combined, file: file, line: line)
        if keywords.contains("compress") {
          XCTAssertTrue(result.output.contains("Deep Potential tables built at load (stride 0.01, extrapolate 5.0"), result.output,
                        file: file, line: line)
        }
        let pe = try XCTUnwrap(thermoRows(result.output).first?["PotEng"], result.output, file: file, line: line)
        XCTAssertEqual(pe, energy, accuracy: tolerance(energy, frame.atomCount), "\(keywords): \(label), \(ranks) ranks", file: file, line: line)
        let dump = try String(contentsOf: dir.appendingPathComponent("forces.dump"), encoding: .utf8)
        let rows = dump.split(separator: "\n").drop { !$0.hasPrefix("ITEM: ATOMS") }.dropFirst()
        XCTAssertEqual(rows.count, frame.atomCount, "\(label)", file: file, line: line)
        var worst = 0.0
        for row in rows {
          let w = row.split(separator: " ").compactMap { Double($0) }
          let i = Int(w[0]) - 1
          for c in 0..<3 { worst = max(worst, abs(w[1 + c] - forces[3 * i + c])) }
        }
        XCTAssertLessThan(worst, forceTolerance, "\(keywords): \(label), \(ranks) ranks: largest force difference (eV/Å)",
                          file: file, line: line)
      }
      checked += 1
    }
    XCTAssertGreaterThanOrEqual(checked, 5, "periodic reference configurations a LAMMPS box can hold", file: file, line: line)
  }

  /// NVE from 300 K with the built tables, with float32 networks, and with both: the total energy
  /// stays within 3e-5 eV/atom of its start over 1,000 steps of 1 fs (fluctuation and drift
  /// together; the float64 network itself stays within 7.3e-6 on this deck).
  func testCompressedNVEConservesEnergy() throws {
    try assertConservesEnergy("compress min_nbor_dist \(distance)")
  }

  func testFloat32NVEConservesEnergy() throws {
    try assertConservesEnergy("precision float32")
  }

  func testFloat32CompressedNVEConservesEnergy() throws {
    try assertConservesEnergy("compress min_nbor_dist \(distance) precision float32")
  }

  private func assertConservesEnergy(_ keywords: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let dir = try makeScratchDirectory("compressed-nve")
    let result = try runDeck("""
    units metal
    lattice fcc 3.615
    region box block 0 2 0 2 0 2
    create_box 1 box
    create_atoms 1 box
    mass 1 63.546
    pair_style deepmd \(model) \(keywords)
    pair_coeff * * Cu
    velocity all create 300 4928459 dist gaussian
    neighbor 1.0 bin
    neigh_modify every 5 delay 0 check yes
    timestep 0.001
    fix 1 all nve
    thermo_style custom step temp etotal
    thermo_modify format float %.16g
    thermo 50
    run 1000
    """, named: "in.deck", ranks: 2, in: dir)
    XCTAssertEqual(result.status, 0, result.combined, file: file, line: line)
    let rows = thermoRows(result.output)
    XCTAssertEqual(rows.count, 21, file: file, line: line)
    XCTAssertGreaterThan(rows.last?["Temp"] ?? 0, 50, "the system should be moving", file: file, line: line)
    let energies = rows.map { $0["TotEng"]! }
    XCTAssertLessThan(energies.map { abs($0 - energies[0]) }.max()! / 32, 3e-5, "energies \(energies)", file: file, line: line)
  }

  func testCompressErrors() throws {
    let cases: [(String, String)] = [
      ("\(model) compress", "does not record min_nbor_dist"),
      ("\(model) stride 0.01", "'stride' sets up the tables of 'compress'; put it after compress"),
      ("\(model) compress min_nbor_dist -1", "expected distance (Å) > 0 after min_nbor_dist, got '-1'"),
      ("\(model) compress min_nbor_dist 2 extrapolate 1", "expected extrapolation factor > 1 after extrapolate, got '1'"),
      ("\(model) precision half", "expected float64 or float32 after precision, got 'half'"),
    ]
    for (style, message) in cases {
      let dir = try makeScratchDirectory("compressed-errors")
      let result = try runDeck("units metal\nlattice fcc 3.615\nregion box block 0 1 0 1 0 1\ncreate_box 1 box\npair_style deepmd \(style)\n",
                               named: "in.deck", ranks: 1, in: dir)
      XCTAssertNotEqual(result.status, 0, style)
      XCTAssertTrue(result.error.contains("in.deck:5: pair_style: ") && result.error.contains(message), result.combined)
    }
  }
}
