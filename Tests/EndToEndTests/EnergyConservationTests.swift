import Foundation
import TesseraTestSupport
import XCTest

/// NVE with lj/cut conserves energy: over 2,000 steps of dt = 0.005 τ the total energy per atom of a
/// 500-atom liquid fluctuates by less than 1e-3 ε (Verlet's O(dt²) shadow-energy wobble), and the
/// mean of the last quarter differs from the first quarter's by less than 2e-4 ε (systematic drift).
/// The shifted potential keeps pairs crossing the cutoff from adding jumps.
final class EnergyConservationTests: XCTestCase {
  func testLennardJonesLiquidNVEDrift() throws {
    let dir = try makeScratchDirectory("nve")
    let result = try runDeck("""
      units lj
      lattice fcc 0.8442
      region box block 0 5 0 5 0 5
      create_box 1 box
      create_atoms 1 box
      mass 1 1.0
      velocity all create 1.5 2024
      pair_style lj/cut 2.5
      pair_coeff 1 1 1.0 1.0
      pair_modify shift yes
      neighbor 0.3 bin
      fix 1 all nve
      thermo_style custom step etotal
      thermo_modify format float %.12g
      thermo 100
      run 2000
      """, named: "in.nve", ranks: 2, in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    let energies = thermoRows(result.output).compactMap { $0["TotEng"] }
    XCTAssertEqual(energies.count, 21)
    let fluctuation = energies.map { abs($0 - energies[0]) }.max()!
    XCTAssertLessThan(fluctuation, 1e-3, "energies \(energies)")
    let quarter = energies.count / 4
    let early = energies.prefix(quarter).reduce(0, +) / Double(quarter)
    let late = energies.suffix(quarter).reduce(0, +) / Double(quarter)
    XCTAssertLessThan(abs(late - early), 2e-4, "energies \(energies)")
  }
}
