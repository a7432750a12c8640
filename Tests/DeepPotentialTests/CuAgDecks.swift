import Foundation
import TesseraTestSupport
import XCTest

/// Cu–Ag decks with `pair_style deepmd` for the DPA-1 and DPA-3 run tests: the data file, an NVE
/// deck, a run through the tessera binary, and thermo compared between rank counts to 1e-10.
extension XCTestCase {
  /// A Cu–Ag fcc solid solution of cells³ cubic cells (a₀ 3.85 Å), types from a fixed pattern;
  /// `vacuum` Å added above it in z (a slab).
  func dataFile(cells: Int, vacuum: Double = 0) -> String {
    let a = 3.85
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

  func deck(model: String, steps: Int, thermoEvery: Int = 10, temperature: Double = 300) -> String {
    """
    units metal
    atom_style atomic
    read_data data.cuag
    pair_style deepmd \(inputPath("models/\(model)/\(model).dp"))
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

  func run(_ deck: String, cells: Int, vacuum: Double = 0, ranks: Int) throws -> ProcessResult {
    let dir = try makeScratchDirectory("deepmd-run")
    try dataFile(cells: cells, vacuum: vacuum).write(to: dir.appendingPathComponent("data.cuag"), atomically: true, encoding: .utf8)
    try deck.write(to: dir.appendingPathComponent("in.cuag"), atomically: true, encoding: .utf8)
    return try runTessera(ranks: ranks, ["run", "in.cuag", "--log", "none"], in: dir)
  }

  func assertRankIndependent(model: String, cells: Int, vacuum: Double = 0, steps: Int, ranks: [Int],
                             file: StaticString = #filePath, line: UInt = #line) throws {
    let text = deck(model: model, steps: steps)
    let reference = try run(text, cells: cells, vacuum: vacuum, ranks: 1)
    XCTAssertEqual(reference.status, 0, reference.combined, file: file, line: line)
    let expected = thermoRows(reference.output)
    XCTAssertEqual(expected.count, steps / 10 + 1, reference.output, file: file, line: line)
    for n in ranks {
      let result = try run(text, cells: cells, vacuum: vacuum, ranks: n)
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
}
