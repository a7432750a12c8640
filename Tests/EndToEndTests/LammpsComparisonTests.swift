import Foundation
import TesseraTestSupport
import XCTest

/// Tessera against LAMMPS (Debian's `lmp`) on the same deck: a 4,000-atom LJ liquid read from a data
/// file with velocities, NVE for 1,000 steps, thermo every 100. Every printed column must agree to
/// 1e-8 relative, on 1 and 4 ranks, in orthogonal and triclinic boxes; then the same for the
/// thermostats and barostats over 500 steps.
///
/// The liquid is chaotic: round-off differences (summation order) grow by about e per 0.3 τ, so
/// after 5 τ (dt 0.005) even LAMMPS on 1 and on 4 ranks differs by ~5e-8. With dt 0.002 the run
/// spans 2 τ and both codes stay within ~1e-10 of each other.
final class LammpsComparisonTests: XCTestCase {
  let lammps = "/usr/bin/lmp"

  /// The liquid under `fixes` for `steps` steps, thermo every 100 with every column printed exactly.
  func deck(fixes: String, steps: Int) -> String {
    """
    units lj
    atom_style atomic
    atom_modify map array
    read_data liquid.data
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    neighbor 0.3 bin
    neigh_modify every 1 delay 0 check yes
    timestep 0.002
    \(fixes)
    thermo_style custom step temp pe ke etotal press vol lx ly lz xy xz yz pxx pyy pzz pxy pxz pyz density ecouple econserve
    thermo_modify format float %.16g norm no
    thermo 100
    run \(steps)
    """
  }

  /// Runs the deck in both codes on 1 and 4 ranks and compares every row; returns LAMMPS's rows.
  @discardableResult
  func compare(region: String, fixes: String = "fix 1 all nve", steps: Int = 1000) throws -> [[String: Double]] {
    guard FileManager.default.isExecutableFile(atPath: lammps) else {
      XCTFail("LAMMPS (Debian package lammps) is not installed; `make test` installs it")
      return []
    }
    var reference: [[String: Double]] = []
    let dir = try makeScratchDirectory("lammps")
    try meltLiquidWithLammps(in: dir, region: region)
    try deck(fixes: fixes, steps: steps).write(to: dir.appendingPathComponent("in.nve"), atomically: true, encoding: .utf8)
    for ranks in [1, 4] {
      let lammpsRun = try runProcess("/usr/bin/mpirun", ["--oversubscribe", "-np", "\(ranks)", lammps, "-in", "in.nve", "-log", "none"], in: dir)
      XCTAssertEqual(lammpsRun.status, 0, lammpsRun.combined)
      let tessera = try runTessera(ranks: ranks, ["run", "in.nve", "--log", "none"], in: dir)
      XCTAssertEqual(tessera.status, 0, tessera.combined)
      let expected = thermoRows(lammpsRun.output), actual = thermoRows(tessera.output)
      reference = expected
      XCTAssertEqual(expected.count, steps / 100 + 1, lammpsRun.output)
      assertThermoTablesAgree(expected, actual, tolerance: 1e-8, "\(ranks) ranks, LAMMPS vs Tessera")
    }
    return reference
  }

  func testOrthogonalLiquid() throws {
    try compare(region: "region box block 0 10 0 10 0 10")
  }

  func testTriclinicLiquid() throws {
    try compare(region: "region box prism 0 10 0 10 0 10 1 0.5 0.5")
  }

  /// Nosé–Hoover chain cooling the liquid (ramped target, longer chain, two loops, drag): the chain
  /// energy `ecouple` and `econserve` too.
  func testNoseHooverChain() throws {
    try compare(region: "region box block 0 10 0 10 0 10",
                fixes: "fix 1 all nvt temp 1.6 1.2 0.2 tchain 4 tloop 2 drag 0.1", steps: 500)
  }

  func testNoseHooverChainTriclinic() throws {
    try compare(region: "region box prism 0 10 0 10 0 10 1 0.5 0.5", fixes: "fix 1 all nvt temp 1.4 1.4 0.5",
                steps: 500)
  }

  func testBerendsenWithMomentumRemoval() throws {
    try compare(region: "region box block 0 10 0 10 0 10",
                fixes: "fix 1 all nve\nfix 2 all temp/berendsen 1.6 1.0 0.3\nfix 3 all momentum 50 linear 1 1 1",
                steps: 500)
  }

  /// The barostat must have moved the box by more than `fraction` (relative volume change over the
  /// run), so that agreement is not that of a box standing still.
  func assertBoxMoved(_ rows: [[String: Double]], by fraction: Double, file: StaticString = #filePath, line: UInt = #line) {
    let volumes = rows.compactMap { $0["Volume"] }
    guard let first = volumes.first, let most = volumes.map({ abs($0 - first) }).max() else {
      return XCTFail("no volumes", file: file, line: line)
    }
    XCTAssertGreaterThan(most / first, fraction, "volumes \(volumes)", file: file, line: line)
  }

  /// MTK barostat with the Nosé–Hoover thermostat (`fix npt … iso`): the liquid (P ≈ 1.1) expanding
  /// towards P = 0.2, about 5 % in volume; box lengths, `ecouple` (barostat and both chains) and
  /// `econserve` included.
  func testIsotropicBarostat() throws {
    let rows = try compare(region: "region box block 0 10 0 10 0 10",
                           fixes: "fix 1 all npt temp 0.8 0.8 0.5 iso 0.2 0.2 1.0", steps: 500)
    assertBoxMoved(rows, by: 0.03)
  }

  /// Each box length on its own (`aniso`), with ramped targets, longer chains, Trotter loops and drag.
  func testAnisotropicBarostat() throws {
    let rows = try compare(region: "region box block 0 10 0 10 0 10",
                           fixes: "fix 1 all npt temp 0.9 0.7 0.5 aniso 0.2 0.5 1.0 tchain 4 pchain 2 tloop 2 ploop 3 drag 0.2",
                           steps: 500)
    assertBoxMoved(rows, by: 0.03)
  }

  /// Six box degrees of freedom (`tri`) on the triclinic liquid: tilts move, shear stresses go to zero.
  func testTriclinicBarostat() throws {
    let rows = try compare(region: "region box prism 0 10 0 10 0 10 1 0.5 0.5",
                           fixes: "fix 1 all npt temp 0.8 0.8 0.5 tri 0.2 0.2 1.0", steps: 500)
    assertBoxMoved(rows, by: 0.03)
    let tilts = rows.compactMap { $0["Xy"] }
    XCTAssertGreaterThan(abs(tilts.last! - tilts.first!), 0.05, "xy \(tilts)")
  }

  /// Per-component targets (LAMMPS's `x y z yz xz xy`, its deviatoric stress and strain energy): x
  /// and y only, at different pressures and damping times, z left alone; and on the triclinic liquid
  /// each normal component with x and y coupled plus a shear target on xy.
  func testPerComponentTargets() throws {
    let rows = try compare(region: "region box block 0 10 0 10 0 10",
                           fixes: "fix 1 all npt temp 0.8 0.8 0.5 x 0.2 0.2 1.0 y 0.6 0.6 0.7", steps: 500)
    assertBoxMoved(rows, by: 0.01)
    XCTAssertEqual(rows.first!["Lz"], rows.last!["Lz"], "z has no target and keeps its length")
    let tilted = try compare(region: "region box prism 0 10 0 10 0 10 1 0.5 0.5",
                             fixes: "fix 1 all npt temp 0.8 0.8 0.5 x 0.2 0.2 1.0 y 0.2 0.2 1.0 z 0.4 0.4 1.0 "
                               + "xy 0.1 0.1 1.0 couple xy", steps: 500)
    assertBoxMoved(tilted, by: 0.01)
    // xz and yz have no target of their own: they scale with z (LAMMPS scalexz, scaleyz).
    for (tilt, expected) in [("Xz", 0.5), ("Yz", 0.5)] {
      let first = tilted.first!, last = tilted.last!
      XCTAssertEqual(last[tilt]! / last["Lz"]!, first[tilt]! / first["Lz"]!, accuracy: 1e-12, tilt)
      XCTAssertNotEqual(last[tilt]!, first[tilt]!, "\(tilt) should have scaled with z (\(expected) lattice units)")
    }
  }

  /// `fix nph` (no thermostat; the barostat's masses from the starting temperature): x and y coupled,
  /// no chain on the barostat; and isotropic on the tilted box, where the tilts scale with the lengths.
  func testBarostatWithoutThermostat() throws {
    assertBoxMoved(try compare(region: "region box block 0 10 0 10 0 10",
                               fixes: "fix 1 all nph aniso 0.2 0.5 1.0 couple xy pchain 0", steps: 500), by: 0.03)
    assertBoxMoved(try compare(region: "region box prism 0 10 0 10 0 10 1 0.5 0.5",
                               fixes: "fix 1 all nph iso 0.2 0.2 1.0 dilate all", steps: 500), by: 0.03)
  }
}
