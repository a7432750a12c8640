import Decomposition
import Foundation
import Geometry
import InputDeck
import Potentials

/// `tessera check`: the commands build the system and the set-up as a run would; this reports what
/// the acts would do — for each `run` the system, the force field, fixes and output files as the
/// set-up holds them, and how `plannedRanks` ranks would cut the box — and performs none of them.
final class Checking: Execution {
  let plannedRanks: Int?
  /// The planned rank count's grid once a `balance` has moved its cuts, with the box it cut.
  private var balanced: (box: Box, grid: ProcessorGrid)?

  init(plannedRanks: Int?) { self.plannedRanks = plannedRanks }

  func run(_ span: RunSpan, box: Box, forceField: ForceField, command: Command, _ simulation: Simulation) throws {
    describePlan(steps: span.steps, box: box, forceField: forceField, simulation)
    simulation.step += span.steps
  }

  func writeFile(_ path: String, command: Command, _ simulation: Simulation, write: () throws -> Void) throws {
    simulation.console.line("\(command.name) \(path) at step \(simulation.step)")
  }

  func gridToBalance(_ simulation: Simulation, box: Box) -> ProcessorGrid {
    if let balanced, balanced.box == box { return balanced.grid }
    let counts = ProcessorGrid.choose(ranks: plannedRanks ?? simulation.comm.size, box: box,
                                      requested: simulation.requestedGrid) ?? simulation.grid!.counts
    return ProcessorGrid(counts: counts, rank: 0)
  }

  func imbalance(_ grid: ProcessorGrid, fractions: [SIMD3<Double>], _ simulation: Simulation) -> (Double, Double) {
    let loads = ShiftBalancer.brickLoads(grid, fractions: fractions, comm: simulation.comm)
    return (ShiftBalancer.imbalance(loads: loads), loads.max() ?? 0)
  }

  func adopt(_ grid: ProcessorGrid, box: Box, fractions: [SIMD3<Double>], command: Command,
             _ simulation: Simulation) throws -> (Double, Double) {
    balanced = (box, grid)
    return imbalance(grid, fractions: fractions, simulation)
  }

  private func describePlan(steps: Int, box b: Box, forceField: ForceField, _ s: Simulation) {
    let console = s.console, masses = s.masses, setup = s.setup
    console.line("run \(steps) steps (from step \(s.step), timestep \(s.timestep ?? s.units.defaultTimestep)):")
    let shape = b.isTriclinic ? "triclinic (tilts \(b.xy) \(b.xz) \(b.yz))" : "orthogonal"
    console.line("  box: \(shape) from (\(b.lo.x), \(b.lo.y), \(b.lo.z)) to (\(b.hi.x), \(b.hi.y), \(b.hi.z)), "
      + "periodic \(b.periodic.map { $0 ? "p" : "f" }.joined(separator: " "))")
    console.line("  atoms: \(s.atomCount) of \(masses.typeCount) type\(masses.typeCount == 1 ? "" : "s"), masses "
      + (1...max(masses.typeCount, 1)).map { masses.typeCount == 0 ? "-" : "\(masses.values[$0])" }.joined(separator: " "))
    console.line("  potential: \(setup.forceFieldDescription), cutoff \(forceField.potential.cutoff), "
      + "skin \(setup.effectiveRebuild(s.units).skin)")
    for line in forceField.planDescription { console.line("  " + line) }
    for (id, _) in setup.fixes { console.line("  fix \(id): \(setup.fixStyles[id] ?? "?")") }
    for dump in setup.dumps { console.line("  dump \(dump.id): every \(dump.every) steps to \(dump.pattern)") }
    if setup.restarts.every > 0 {
      console.line("  restart: every \(setup.restarts.every) steps to \(setup.restarts.files.joined(separator: " and "))")
    }
    let ranks = plannedRanks ?? s.comm.size
    if let counts = ProcessorGrid.choose(ranks: ranks, box: b, requested: s.requestedGrid) {
      // After a balance, the cut dimensions list each slab's length (LAMMPS lengths along the box edges).
      let cuts = balanced.flatMap { $0.box == b && $0.grid.counts == counts ? $0.grid.cuts : nil }
      let lengths = (0..<3).map { d -> String in
        guard let cuts = cuts?[d], cuts != (0...counts[d]).map({ Double($0) / Double(counts[d]) }) else {
          return "\(b.length[d] / Double(counts[d]))"
        }
        return "(" + (0..<counts[d]).map { "\((cuts[$0 + 1] - cuts[$0]) * b.length[d])" }.joined(separator: " ") + ")"
      }
      console.line("  \(ranks) rank\(ranks == 1 ? "" : "s"): processor grid \(counts.x)x\(counts.y)x\(counts.z), "
        + "sub-domains \(lengths.joined(separator: " x "))")
    } else {
      let g = s.requestedGrid
      console.line("  \(ranks) ranks: no processor grid matches processors \(g.x) \(g.y) \(g.z)")
    }
  }
}
