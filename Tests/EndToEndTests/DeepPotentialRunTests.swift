import Foundation
import TesseraTestSupport
import XCTest

/// The copper Deep Potential in decks: rank-count independence, energy conservation, and the
/// messages for element names and neighbour overflow.
final class DeepPotentialRunTests: XCTestCase {
  let model = inputPath("models/cu_se_e2_a/cu_se_e2_a.dp")

  func deck(cells: Int, lattice: Double = 3.615, steps: Int, temperature: Double = 300, skin: Double = 1.0,
            extra: String = "", thermoEvery: Int = 10, element: String = "Cu") -> String {
    """
    units metal
    atom_style atomic
    lattice fcc \(lattice)
    region box block 0 \(cells) 0 \(cells) 0 \(cells)
    create_box 1 box
    create_atoms 1 box
    mass 1 63.546
    pair_style deepmd \(model) \(extra)
    pair_coeff * * \(element)
    velocity all create \(temperature) 4928459 dist gaussian
    neighbor \(skin) bin
    neigh_modify every 5 delay 0 check yes
    timestep 0.001
    fix 1 all nve
    thermo_style custom step temp pe ke etotal press pxx pyy pzz pxy pxz pyz dpoverflow
    thermo_modify format float %.16g
    thermo \(thermoEvery)
    run \(steps)
    """
  }

  func run(_ text: String, ranks: Int, options: [String] = []) throws -> ProcessResult {
    let dir = try makeScratchDirectory("dp")
    try text.write(to: dir.appendingPathComponent("in.cu"), atomically: true, encoding: .utf8)
    return try runTessera(ranks: ranks, ["run", "in.cu", "--log", "none"] + options, in: dir)
  }

  func assertRankIndependent(_ text: String, ranks: [Int], file: StaticString = #filePath, line: UInt = #line) throws {
    let reference = try run(text, ranks: 1)
    XCTAssertEqual(reference.status, 0, reference.combined, file: file, line: line)
    let expected = thermoRows(reference.output)
    XCTAssertGreaterThan(expected.count, 3, reference.output, file: file, line: line)
    for n in ranks {
      let result = try run(text, ranks: n)
      XCTAssertEqual(result.status, 0, result.combined, file: file, line: line)
      assertThermoTablesAgree(expected, thermoRows(result.output), tolerance: 1e-10, "\(n) ranks", file: file, line: line)
    }
  }

  func testCopperThermoIsIndependentOfRankCount() throws {
    try assertRankIndependent(deck(cells: 3, steps: 50), ranks: [2, 4, 8])
  }

  /// `threads N` splits each rank's centres over N evaluators: thermo equals the unthreaded run's to
  /// round-off: 1e-10 as across rank counts in float64; in float32 (with built tables) 1e-6, since
  /// Float products round differently when atoms are grouped into other blocks.
  func testThreadsAgreeWithTheUnthreadedRun() throws {
    for (extra, tolerance) in [("", 1e-10), ("compress min_nbor_dist 2.0129867224877644 precision float32", 1e-6)] {
      let reference = try run(deck(cells: 3, steps: 30, extra: extra), ranks: 1)
      XCTAssertEqual(reference.status, 0, reference.combined)
      let expected = thermoRows(reference.output)
      XCTAssertEqual(expected.count, 4)
      for (threads, ranks) in [(3, 1), (2, 2)] {
        let result = try run(deck(cells: 3, steps: 30, extra: "\(extra) threads \(threads)"), ranks: ranks)
        XCTAssertEqual(result.status, 0, result.combined)
        assertThermoTablesAgree(expected, thermoRows(result.output), tolerance: tolerance,
                                columns: ["Step", "PotEng", "TotEng", "Temp", "Press", "Pxx", "Pxy"],
                                "\(extra) threads \(threads) × \(ranks) ranks")
      }
    }
  }

  func testTinyPeriodicBoxWithGhostsSeveralImagesDeep() throws {
    // 4 atoms in a 3.6 Å cube against a 7 Å ghost cutoff: every neighbour is an image.
    try assertRankIndependent(deck(cells: 1, steps: 50), ranks: [2, 4, 8])
  }

  /// NVE at 300 K: over 1,000 steps of 1 fs the total energy of 32 atoms stays within 2e-4 eV/atom of
  /// its start (fluctuation and drift together); a non-smooth energy or a wrong gradient breaks this.
  func testCopperNVEConservesEnergy() throws {
    let result = try run(deck(cells: 2, steps: 1000, skin: 1.0, thermoEvery: 50), ranks: 2)
    XCTAssertEqual(result.status, 0, result.combined)
    let rows = thermoRows(result.output)
    XCTAssertEqual(rows.count, 21)
    let energies = rows.map { $0["TotEng"]! }
    let temperatures = rows.map { $0["Temp"]! }
    XCTAssertGreaterThan(temperatures.last!, 50, "the system should be moving")
    let drift = energies.map { abs($0 - energies[0]) }.max()! / 32
    XCTAssertLessThan(drift, 2e-4, "energies \(energies)")
  }

  func testUnknownElementIsRefused() throws {
    let result = try run(deck(cells: 1, steps: 0, element: "Ag"), ranks: 1)
    XCTAssertNotEqual(result.status, 0)
    XCTAssert(result.error.contains("in.cu:9: pair_coeff: element 'Ag' is not in the model's type map (Cu)"), result.combined)
  }

  func testNeighbourOverflowIsReportedAndCanBeAnError() throws {
    // Compressed to 3.0 Å: about 150 neighbours within rcut against sel 112.
    let warned = try run(deck(cells: 2, lattice: 3.0, steps: 0, temperature: 10), ranks: 2)
    XCTAssertEqual(warned.status, 0, warned.combined)
    XCTAssertEqual(thermoRows(warned.output).first?["DPOverflow"], 32)
    XCTAssert(warned.output.contains("WARNING: Deep Potential: 32 atom-steps had more neighbours within rcut than sel [112]"),
              warned.output)
    for ranks in [1, 2] {
      let failed = try run(deck(cells: 2, lattice: 3.0, steps: 0, temperature: 10, extra: "sel_overflow error"), ranks: ranks)
      XCTAssertEqual(failed.status, 1, failed.combined)
      XCTAssert(failed.error.contains("more neighbours of one type within rcut"), failed.combined)
    }
  }

  /// `tessera run --threads N` (or `-threads N`) gives a deck without the `threads` keyword N
  /// workers per rank: thermo equals the 1-thread run's to 1e-10 (float64), as the keyword's does;
  /// with the keyword in the deck as well, the run is the keyword's.
  func testThreadsOptionAgreesWithOneThread() throws {
    let reference = try run(deck(cells: 3, steps: 30), ranks: 1)
    XCTAssertEqual(reference.status, 0, reference.combined)
    let expected = thermoRows(reference.output)
    XCTAssertEqual(expected.count, 4)
    for (options, extra, ranks) in [(["--threads", "3"], "", 1), (["-threads", "2"], "", 2), (["--threads", "4"], "threads 2", 1)] {
      let result = try run(deck(cells: 3, steps: 30, extra: extra), ranks: ranks, options: options)
      XCTAssertEqual(result.status, 0, result.combined)
      assertThermoTablesAgree(expected, thermoRows(result.output), tolerance: 1e-10,
                              columns: ["Step", "PotEng", "TotEng", "Temp", "Press"], "\(options) \(extra) × \(ranks) ranks")
    }
    let refused = try run(deck(cells: 1, steps: 0), ranks: 1, options: ["--threads", "0"])
    XCTAssertNotEqual(refused.status, 0)
    XCTAssert(refused.combined.contains("--threads expects a positive thread count, got 0"), refused.combined)
  }

  func testThreadCountMustBePositive() throws {
    let result = try run(deck(cells: 1, steps: 0, extra: "threads 0"), ranks: 1)
    XCTAssertNotEqual(result.status, 0)
    XCTAssert(result.error.contains("in.cu:8: pair_style: "), result.combined)
  }

  func testUnsupportedPluginKeywordIsRefusedByName() throws {
    let result = try run(deck(cells: 1, steps: 0, extra: "fparam_from_compute T"), ranks: 1)
    XCTAssertNotEqual(result.status, 0)
    XCTAssert(result.error.contains("keyword 'fparam_from_compute' of DeePMD-kit's pair_style deepmd is not supported"), result.combined)
  }
}
