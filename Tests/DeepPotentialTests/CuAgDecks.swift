import Foundation
import TesseraTestSupport
import XCTest

/// Decks of the Cu–Ag fixture models (`inputs/models/cuag_*`) for the run tests of every descriptor:
/// the data file, an NVE deck with `pair_style deepmd MODEL.dp`, a run through the tessera binary,
/// thermo compared between rank counts to 1e-10, and energy conservation.
protocol CuAgDeckRunning {}

extension CuAgDeckRunning {
  /// A Cu–Ag fcc solid solution of cells³ cubic cells (a₀ 3.85 Å unless given), types from a fixed
  /// pattern; `vacuum` Å added above it in z (a slab).
  func dataFile(cells: Int, latticeConstant a: Double = 3.85, vacuum: Double = 0) -> String {
    let basis: [[Double]] = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    var atoms: [String] = []
    for i in 0..<cells {
      for j in 0..<cells {
        for k in 0..<cells {
          for b in basis {
            let id = atoms.count + 1
            let type = (id * 7 + id / 3) % 5 < 2 ? 2 : 1
            atoms.append("\(id) \(type) \((Double(i) + b[0]) * a) \((Double(j) + b[1]) * a) \((Double(k) + b[2]) * a)")
          }
        }
      }
    }
    let edge = Double(cells) * a
    return """
      Cu-Ag solid solution

      \(atoms.count) atoms
      2 atom types

      0 \(edge) xlo xhi
      0 \(edge) ylo yhi
      0 \(edge + vacuum) zlo zhi

      Masses

      1 63.546
      2 107.8682

      Atoms # atomic

      \(atoms.joined(separator: "\n"))

      """
  }

  /// `keywords`: what follows the model on the pair_style line.
  func deck(model: String, keywords: String = "", steps: Int, thermoEvery: Int = 10, temperature: Double = 300) -> String {
    """
    units metal
    atom_style atomic
    read_data data.cuag
    pair_style deepmd \(inputPath("models/\(model)/\(model).dp"))\(keywords.isEmpty ? "" : " \(keywords)")
    pair_coeff * * Cu Ag
    velocity all create \(temperature) 4928459 dist gaussian
    neighbor 1.0 bin
    neigh_modify every 5 delay 0 check yes
    timestep 0.001
    fix 1 all nve
    thermo_style custom step temp pe ke etotal press pxx pyy pzz pxy pxz pyz dpoverflow
    thermo_modify format float %.16g
    thermo \(thermoEvery)
    run \(steps)
    """
  }

  func run(_ deck: String, cells: Int, latticeConstant: Double = 3.85, vacuum: Double = 0, ranks: Int) throws
    -> ProcessResult {
    let dir = try makeScratchDirectory("deepmd-run")
    try dataFile(cells: cells, latticeConstant: latticeConstant, vacuum: vacuum).write(to: dir.appendingPathComponent("data.cuag"), atomically: true, encoding: .utf8)
    try deck.write(to: dir.appendingPathComponent("in.cuag"), atomically: true, encoding: .utf8)
    return try runTessera(ranks: ranks, ["run", "in.cuag", "--log", "none"], in: dir)
  }

  func assertRankIndependent(model: String, keywords: String = "", cells: Int, latticeConstant: Double = 3.85,
                             vacuum: Double = 0, steps: Int, ranks: [Int], file: StaticString = #filePath,
                             line: UInt = #line) throws {
    let text = deck(model: model, keywords: keywords, steps: steps)
    let reference = try run(text, cells: cells, latticeConstant: latticeConstant, vacuum: vacuum, ranks: 1)
    XCTAssertEqual(reference.status, 0, reference.combined, file: file, line: line)
    let expected = thermoRows(reference.output)
    XCTAssertEqual(expected.count, steps / 10 + 1, reference.output, file: file, line: line)
    for n in ranks {
      let result = try run(text, cells: cells, latticeConstant: latticeConstant, vacuum: vacuum, ranks: n)
      XCTAssertEqual(result.status, 0, result.combined, file: file, line: line)
      let rows = thermoRows(result.output)
      XCTAssertEqual(rows.count, expected.count, result.output, file: file, line: line)
      for (a, b) in zip(expected, rows) {
        for (key, value) in a where b[key] != value {
          let mine = b[key] ?? .nan
          // Pressures are compared on the scale of the largest pressure component of the row.
          let scale = key.hasPrefix("P") ? ["Press", "Pxx", "Pyy", "Pzz"].map { abs(a[$0] ?? 0) }.max()! : abs(value)
          XCTAssertLessThan(abs(mine - value) / scale, 1e-10, "\(model) \(n) ranks, step \(a["Step"]!), \(key): \(value) vs \(mine)",
                            file: file, line: line)
        }
      }
    }
  }

  /// NVE at 300 K, 1 fs: over 1,000 steps the total energy of 32 atoms (2 ranks) stays within
  /// `bound` eV/atom of its start; a non-smooth energy or a wrong gradient breaks this.
  func assertConservesEnergy(model: String, bound: Double, file: StaticString = #filePath, line: UInt = #line) throws {
    let result = try run(deck(model: model, steps: 1000, thermoEvery: 50), cells: 2, ranks: 2)
    XCTAssertEqual(result.status, 0, result.combined, file: file, line: line)
    let rows = thermoRows(result.output)
    guard rows.count == 21 else { return XCTFail("\(model): expected 21 thermo rows: \(result.output)", file: file, line: line) }
    let energies = rows.map { $0["TotEng"]! }
    XCTAssertGreaterThan(rows.last!["Temp"]!, 50, "\(model): the system should be moving", file: file, line: line)
    let drift = energies.map { abs($0 - energies[0]) }.max()! / 32
    print("\(model) NVE: largest |E_total − E_0| per atom over 1,000 steps: \(drift) eV")
    XCTAssertLessThan(drift, bound, "\(model) energies \(energies)", file: file, line: line)
  }
}
