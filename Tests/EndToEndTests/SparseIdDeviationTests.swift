import Foundation
import TesseraTestSupport
import XCTest

/// An ensemble run with `atomic` on atoms whose ids have gaps (7, 14, 21, …, as after deleting atoms):
/// the per-atom columns are in id order, the same on 1, 2 and 4 ranks, and the same as re-evaluating
/// the dumped frames. This used to trap (the per-atom deviations were indexed by id − 1).
final class SparseIdDeviationTests: XCTestCase {
  let models = ["models/cu_se_e2_a/cu_se_e2_a.dp", "models/cu_ensemble/cu_ens1.dp",
                "models/cu_ensemble/cu_ens2.dp", "models/cu_ensemble/cu_ens3.dp"].map(inputPath)

  func rows(_ path: String) throws -> [[Double]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
      .filter { !$0.hasPrefix("#") }
      .map { $0.split(separator: " ").map { Double($0)! } }
  }

  /// 108 copper atoms of a 3×3×3 fcc crystal, each moved off its site a little (a fixed pattern), with
  /// ids 7·k written in a shuffled order.
  func writeData(to url: URL) throws {
    let a = 3.615, basis: [SIMD3<Double>] = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    var lines: [String] = []
    var k = 0
    for x in 0..<3 { for y in 0..<3 { for z in 0..<3 { for b in basis {
      k += 1
      let shift = SIMD3<Double>(sin(Double(k)), cos(1.7 * Double(k)), sin(2.3 * Double(k))) * 0.08
      let r = (SIMD3<Double>(Double(x), Double(y), Double(z)) + b) * a + shift
      lines.append("\(7 * ((k * 37) % 108 + 1)) 1 \(r.x) \(r.y) \(r.z)")
    } } } }
    let text = "sparse ids\n\n108 atoms\n1 atom types\n\n0 \(3 * a) xlo xhi\n0 \(3 * a) ylo yhi\n0 \(3 * a) zlo zhi\n\n"
      + "Masses\n\n1 63.546\n\nAtoms # atomic\n\n" + lines.joined(separator: "\n") + "\n"
    try text.write(to: url, atomically: true, encoding: .utf8)
  }

  func deck(models: [String]) -> String {
    """
    units metal
    atom_style atomic
    atom_modify map hash
    read_data sparse.data
    pair_style deepmd \(models.joined(separator: " ")) out_freq 5 out_file model_devi.out atomic
    pair_coeff * * Cu
    velocity all create 800.0 4928459
    neighbor 2.0 bin
    timestep 0.002
    fix 1 all nve
    dump 1 all extxyz 5 frames.xyz
    dump_modify 1 format float %.17g element Cu
    thermo 5
    run 10
    """
  }

  func testAtomicDeviationsWithSparseIds() throws {
    var reference: [[Double]]?
    for ranks in [1, 2, 4] {
      let dir = try makeScratchDirectory("devi-sparse-\(ranks)")
      try writeData(to: dir.appendingPathComponent("sparse.data"))
      let result = try runDeck(deck(models: models), named: "in.sparse", ranks: ranks, in: dir)
      XCTAssertEqual(result.status, 0, result.combined)
      let written = try rows(dir.appendingPathComponent("model_devi.out").path)
      XCTAssertEqual(written.map { $0[0] }, [0, 5, 10], "\(ranks) ranks")
      XCTAssertEqual(written.first?.count, 7 + 108, "one column per atom")
      guard let reference else {
        reference = written
        // The dumped frames (atoms in id order) re-evaluated: the same per-atom columns in the same order.
        let out = dir.appendingPathComponent("re.out").path
        let eval = try runProcess(tesseraBinary, ["eval"] + models.flatMap { ["--model", $0] }
          + [dir.appendingPathComponent("frames.xyz").path, "--devi", out, "--atomic", "--devi-digits", "17"])
        XCTAssertEqual(eval.status, 0, eval.combined)
        let again = try rows(out).map { row in Array(row[1..<7]) + Array(row[8...]) }
        XCTAssertEqual(again.count, written.count)
        for (r, s) in zip(written, again) {
          XCTAssertEqual(r.count - 1, s.count)
          guard r.count - 1 == s.count else { continue }
          for (x, y) in zip(r.dropFirst(), s) { XCTAssertLessThanOrEqual(abs(x - y), 2e-6 * abs(x) + 1e-12, "step \(r[0])") }
        }
        continue
      }
      XCTAssertEqual(written.count, reference.count)
      for (r, s) in zip(reference, written) {
        XCTAssertEqual(r.count, s.count)
        for (x, y) in zip(r, s) { XCTAssertLessThanOrEqual(abs(x - y), 2e-6 * abs(x) + 1e-12, "\(ranks) ranks, step \(r[0])") }
      }
    }
  }
}
