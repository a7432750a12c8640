import Decomposition
import Foundation
import Geometry
import Potentials

/// What `tessera check` prints for each `run`: the system, the force field, fixes and output
/// files as they stand, and how `plannedRanks` ranks would cut the box.
extension Simulation {
  func describePlan(steps: Int, box b: Box, forceField: ForceField) {
    let potential = forceField.potential
    console.line("run \(steps) steps (from step \(step), timestep \(timestep ?? units.defaultTimestep)):")
    let shape = b.isTriclinic ? "triclinic (tilts \(b.xy) \(b.xz) \(b.yz))" : "orthogonal"
    console.line("  box: \(shape) from (\(b.lo.x), \(b.lo.y), \(b.lo.z)) to (\(b.hi.x), \(b.hi.y), \(b.hi.z)), "
      + "periodic \(b.periodic.map { $0 ? "p" : "f" }.joined(separator: " "))")
    console.line("  atoms: \(atomCount) of \(masses.typeCount) type\(masses.typeCount == 1 ? "" : "s"), masses "
      + (1...max(masses.typeCount, 1)).map { masses.typeCount == 0 ? "-" : "\(masses.values[$0])" }.joined(separator: " "))
    console.line("  potential: \(forceFieldDescription), cutoff \(potential.cutoff), skin \(effectiveRebuild.skin)")
    for line in forceField.planDescription { console.line("  " + line) }
    for (id, _) in fixes { console.line("  fix \(id): \(fixStyles[id] ?? "?")") }
    for dump in dumps { console.line("  dump \(dump.id): every \(dump.every) steps to \(dump.pattern)") }
    if restarts.every > 0 {
      console.line("  restart: every \(restarts.every) steps to \(restarts.files.joined(separator: " and "))")
    }
    let ranks = plannedRanks ?? comm.size
    if let counts = ProcessorGrid.choose(ranks: ranks, box: b, requested: requestedGrid) {
      // After a balance, the cut dimensions list each slab's length (LAMMPS lengths along the box edges).
      let cuts = checkGrid?.counts == counts ? checkGrid!.cuts : nil
      let lengths = (0..<3).map { d -> String in
        guard let cuts = cuts?[d], cuts != (0...counts[d]).map({ Double($0) / Double(counts[d]) }) else {
          return "\(b.length[d] / Double(counts[d]))"
        }
        return "(" + (0..<counts[d]).map { "\((cuts[$0 + 1] - cuts[$0]) * b.length[d])" }.joined(separator: " ") + ")"
      }
      console.line("  \(ranks) rank\(ranks == 1 ? "" : "s"): processor grid \(counts.x)x\(counts.y)x\(counts.z), "
        + "sub-domains \(lengths.joined(separator: " x "))")
    } else {
      console.line("  \(ranks) ranks: no processor grid matches processors \(requestedGrid.x) \(requestedGrid.y) \(requestedGrid.z)")
    }
  }
}
