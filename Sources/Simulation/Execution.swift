import Decomposition
import Geometry
import InputDeck

/// What a deck's commands do besides building the system and the run set-up: integrate (`run`),
/// write complete files now (`write_data`, `write_restart`), and cut the box for a rank count
/// (`balance`). Every command builds the system and the set-up alike in a run and in `tessera
/// check`; only these acts differ: a run performs them (`Performing`), a check reports them from
/// the set-up and performs none (`Checking`, in CheckReport.swift).
protocol Execution: AnyObject {
  /// `tessera check -np N`: the rank count whose decomposition the check reports; nil in a run.
  var plannedRanks: Int? { get }
  /// `run N` on the system and the set-up the commands built, with the force field made ready.
  func run(_ span: RunSpan, box: Box, forceField: ForceField, command: Command, _ simulation: Simulation) throws
  /// A complete file `command` writes now at `path`, by `write`.
  func writeFile(_ path: String, command: Command, _ simulation: Simulation, write: () throws -> Void) throws
  /// The grid `balance` moves the cuts of, with the atoms on their owners.
  func gridToBalance(_ simulation: Simulation, box: Box) -> ProcessorGrid
  /// LAMMPS's imbalance factor and the largest load of `grid` (the one `gridToBalance` gave, or its
  /// balanced successor), for the atoms at `fractions`.
  func imbalance(_ grid: ProcessorGrid, fractions: [SIMD3<Double>], _ simulation: Simulation) -> (Double, Double)
  /// Takes the balanced grid; returns its imbalance as `imbalance` measures it.
  func adopt(_ grid: ProcessorGrid, box: Box, fractions: [SIMD3<Double>], command: Command,
             _ simulation: Simulation) throws -> (Double, Double)
}

/// A run: everything happens.
final class Performing: Execution {
  var plannedRanks: Int? { nil }

  func run(_ span: RunSpan, box: Box, forceField: ForceField, command: Command, _ simulation: Simulation) throws {
    try simulation.runSteps(span, forceField: forceField, command: command)
  }

  func writeFile(_ path: String, command: Command, _ simulation: Simulation, write: () throws -> Void) throws {
    try write()
  }

  func gridToBalance(_ simulation: Simulation, box: Box) -> ProcessorGrid { simulation.grid! }

  func imbalance(_ grid: ProcessorGrid, fractions: [SIMD3<Double>], _ simulation: Simulation) -> (Double, Double) {
    imbalanceFactor(ownedCount: simulation.atoms.ownedCount, comm: simulation.comm)
  }

  func adopt(_ grid: ProcessorGrid, box: Box, fractions: [SIMD3<Double>], command: Command,
             _ simulation: Simulation) throws -> (Double, Double) {
    simulation.grid = grid
    simulation.gatherAtomsOnOwners(box)
    let count = simulation.comm.allReduce(simulation.atoms.ownedCount, .sum)
    guard count == simulation.atomCount else {
      throw command.error("lost atoms via balance: original \(simulation.atomCount) current \(count)")
    }
    return imbalance(grid, fractions: fractions, simulation)
  }
}
