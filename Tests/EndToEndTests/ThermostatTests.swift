import Foundation
import TesseraTestSupport
import XCTest

/// Thermostats judged by their invariants and their statistics: the conserved quantity of a
/// Nosé–Hoover chain, the canonical mean and variance of the temperature, and the same random path
/// on any number of ranks.
final class ThermostatTests: XCTestCase {
  func deck(cells: Int, fixes: String, steps: Int, thermoEvery: Int, timestep: Double = 0.005) -> String {
    meltingCrystalDeck(cells: cells, fixes: fixes, thermoColumns: "step temp pe ke etotal ecouple econserve press", steps: steps,
                       thermoEvery: thermoEvery, timestep: timestep)
  }

  func run(_ text: String, ranks: Int = 1) throws -> [[String: Double]] {
    try thermoRowsOfRun(text, ranks: ranks, scratch: "thermostat")
  }

  /// The extended energy etotal + ecouple of a Nosé–Hoover chain is conserved: over 10,000 steps of
  /// the 256-atom liquid at dt 0.002 it stays within 5e-4 ε per atom of its start (fluctuation and
  /// drift together), while the thermostat itself exchanges far more (checked, so the bound is not
  /// vacuous).
  func testNoseHooverInvariantOverTenThousandSteps() throws {
    let rows = try run(deck(cells: 4, fixes: "fix 1 all nvt temp 1.2 1.2 0.5", steps: 10_000, thermoEvery: 500,
                            timestep: 0.002))
    XCTAssertEqual(rows.count, 21)
    let conserved = rows.map { $0["Econserve"]! }, coupled = rows.map { $0["Ecouple"]! }
    let drift = conserved.map { abs($0 - conserved[0]) }.max()! / 256
    XCTAssertLessThan(drift, 5e-4, "econserve \(conserved)")
    XCTAssertGreaterThan(coupled.map(abs).max()! / 256, 20 * drift, "the thermostat did no work")
  }

  /// Mean temperature within 1 % of the target and the variance of the temperature equal to the
  /// canonical 2T²/dof within four standard errors (block averages over 20 blocks), for a small
  /// system where the canonical fluctuations are large.
  func assertCanonical(_ fixes: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let target = 1.0, atoms = 108.0
    let rows = try run(deck(cells: 3, fixes: fixes, steps: 200_000, thermoEvery: 20))
    let temperatures = rows.dropFirst(250).map { $0["Temp"]! }  // 5,000 steps of equilibration
    let mean = temperatures.reduce(0, +) / Double(temperatures.count)
    XCTAssertLessThan(abs(mean - target) / target, 0.01, "\(fixes): mean temperature \(mean)", file: file, line: line)
    let blocks = 20, size = temperatures.count / blocks
    let variances = (0..<blocks).map { b -> Double in
      let block = temperatures[(b * size)..<((b + 1) * size)]
      let m = block.reduce(0, +) / Double(size)
      return block.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(size - 1)
    }
    let variance = variances.reduce(0, +) / Double(blocks)
    let spread = (variances.reduce(0) { $0 + ($1 - variance) * ($1 - variance) } / Double(blocks - 1)).squareRoot()
    let expected = 2 * target * target / (3 * atoms - 3)
    XCTAssertLessThan(abs(variance - expected), 4 * spread / Double(blocks).squareRoot() + 0.02 * expected,
                      "\(fixes): variance \(variance), canonical \(expected), block spread \(spread)", file: file, line: line)
  }

  func testStochasticVelocityRescalingIsCanonical() throws {
    try assertCanonical("fix 1 all nve\nfix 2 all temp/csvr 1.0 1.0 0.5 12345")
  }

  func testLangevinIsCanonical() throws {
    try assertCanonical("fix 1 all nve\nfix 2 all langevin 1.0 1.0 1.0 12345 zero yes")
  }

  func testNoseHooverChainIsCanonical() throws {
    try assertCanonical("fix 1 all nvt temp 1.0 1.0 0.5")
  }

  /// The random thermostats draw the same numbers on any rank count (CSVR on rank 0 and broadcast,
  /// Langevin keyed by atom id and step), so the runs agree to round-off.
  func testStochasticThermostatsAreIndependentOfRankCount() throws {
    for fixes in ["fix 1 all nve\nfix 2 all temp/csvr 1.5 1.0 0.2 777",
                  "fix 1 all nve\nfix 2 all langevin 1.5 1.0 0.5 777 zero yes\nfix 3 all momentum 10 linear 1 1 1"] {
      let text = deck(cells: 4, fixes: fixes, steps: 200, thermoEvery: 50)
      let reference = try run(text)
      XCTAssertEqual(reference.count, 5)
      for ranks in [2, 4] {
        assertThermoTablesAgree(reference, try run(text, ranks: ranks), tolerance: 1e-10, "\(fixes) on \(ranks) ranks")
      }
    }
  }

  func testBadThermostatArguments() throws {
    let dir = try makeScratchDirectory("thermostat-errors")
    let cases = [
      ("fix 1 all nvt temp 1.0 1.0 -0.5", "in.lj:14: fix: Tdamp must be positive, got -0.5"),
      ("fix 1 all nvt temp 1.0 1.0 0.5 iso 1 1 1", "pressure control (iso, aniso, tri, x, y, z, yz, xz, xy) needs fix npt or nph"),
      ("fix 1 all langevin 1.0 1.0 1.0 0", "the random seed must be positive, got 0"),
      ("fix 1 all momentum 10 angular", "expected"),
    ]
    for (fixes, message) in cases {
      let result = try runDeck(deck(cells: 2, fixes: fixes, steps: 10, thermoEvery: 10),
                               named: "in.lj", ranks: 1, in: dir)
      assertRunRefused(result, saying: message, fixes)
    }
  }
}
