import Foundation
import XCTest

/// The opening of the Lennard-Jones test decks: reduced units, an fcc crystal at density 0.8442
/// filling `region`, one atom type of mass 1, and `velocity all create VELOCITY`.
public func fccCrystalDeck(region: String, velocity: String) -> String {
  """
  units lj
  atom_style atomic
  lattice fcc 0.8442
  \(region)
  create_box 1 box
  create_atoms 1 box
  mass 1 1.0
  velocity all create \(velocity)
  """
}

/// The same crystal in a cube of `cells`³ unit cells.
public func fccCrystalDeck(cells: Int, velocity: String) -> String {
  fccCrystalDeck(region: "region box block 0 \(cells) 0 \(cells) 0 \(cells)", velocity: velocity)
}

/// The thermostat and barostat decks: `cells`³ fcc cells melting from T = 1.0 (Gaussian velocities,
/// zero momentum) in the shifted LJ potential under `fixes`, printing `thermoColumns` at full
/// precision, unnormalised, every `thermoEvery` steps.
public func meltingCrystalDeck(cells: Int, fixes: String, thermoColumns: String, steps: Int, thermoEvery: Int,
                               timestep: Double) -> String {
  fccCrystalDeck(cells: cells, velocity: "1.0 4928459 dist gaussian mom yes") + "\n" + """
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    pair_modify shift yes
    neighbor 0.3 bin
    timestep \(timestep)
    \(fixes)
    thermo_style custom \(thermoColumns)
    thermo_modify format float %.16g norm no
    thermo \(thermoEvery)
    run \(steps)
    """
}

/// Writes `deck` as `name` in `directory` and runs `tessera run NAME --log none` there.
public func runDeck(_ deck: String, named name: String, ranks: Int, in directory: URL) throws -> ProcessResult {
  try deck.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
  return try runTessera(ranks: ranks, ["run", name, "--log", "none"], in: directory)
}

/// Runs `deck` as `in.lj` in a fresh scratch directory named after `scratch`, asserts it exits 0,
/// and returns its thermo rows.
public func thermoRowsOfRun(_ deck: String, ranks: Int, scratch: String,
                            file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Double]] {
  let result = try runDeck(deck, named: "in.lj", ranks: ranks, in: try makeScratchDirectory(scratch))
  XCTAssertEqual(result.status, 0, result.combined, file: file, line: line)
  return thermoRows(result.output)
}

/// Asserts that a run was refused: a non-zero exit and `message` in what it printed. `context`
/// names the case in failure messages.
public func assertRunRefused(_ result: ProcessResult, saying message: String, _ context: String,
                             file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertNotEqual(result.status, 0, context, file: file, line: line)
  XCTAssertTrue(result.combined.contains(message), "\(context): \(result.combined)", file: file, line: line)
}

/// Melts the fcc crystal filling `region` at T = 1.6 for 300 steps with Debian's LAMMPS and writes
/// the liquid (positions, images, velocities) to `liquid.data` in `dir`: the shared starting state of
/// the tests that compare Tessera with LAMMPS.
public func meltLiquidWithLammps(in dir: URL, region: String, file: StaticString = #filePath, line: UInt = #line) throws {
  let deck = fccCrystalDeck(region: region, velocity: "1.6 87287 loop geom") + "\n" + """
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    neighbor 0.3 bin
    fix 1 all nve
    run 300
    write_data liquid.data nocoeff
    """
  try deck.write(to: dir.appendingPathComponent("in.melt"), atomically: true, encoding: .utf8)
  let result = try runProcess("/usr/bin/lmp", ["-in", "in.melt", "-log", "none"], in: dir)
  XCTAssertEqual(result.status, 0, result.combined, file: file, line: line)
}
