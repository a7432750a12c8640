import Communication
import Foundation
import Neighbors
import Output
import Potentials

extension Integrator {
  /// The end-of-run report in LAMMPS's layout: loop time, performance, the per-phase breakdown
  /// (min/avg/max over ranks), atom and neighbour statistics, rebuild counts, and what the run put on
  /// the wire (`traffic`, this rank's since the loop started).
  /// `full` false (`run … post no`): the loop time only.
  func printRunSummary(steps: Int, loopTime: Double, traffic: CommunicationTraffic, full: Bool) {
    let dt = context.timestep, units = system.units, potential = forceField.potential
    let ranks = comm.size
    let natoms = comm.allReduce(atoms.ownedCount, .sum)
    console.line(String(format: "Loop time of %g on %d procs for %d steps with %d atoms", loopTime, ranks, steps, natoms))
    console.line()
    guard full else { return }
    if loopTime > 0 && steps > 0 {
      let stepsPerSecond = Double(steps) / loopTime
      if units.name == "metal" {
        let nsPerDay = stepsPerSecond * dt * 1e-3 * 86400
        console.line(String(format: "Performance: %.3f ns/day, %.3f hours/ns, %.3f timesteps/s, %.3f atom-step/s",
                            nsPerDay, 24 / nsPerDay, stepsPerSecond, stepsPerSecond * Double(natoms)))
      } else {
        console.line(String(format: "Performance: %.3f tau/day, %.3f timesteps/s, %.3f atom-step/s",
                            stepsPerSecond * dt * 86400, stepsPerSecond, stepsPerSecond * Double(natoms)))
      }
      console.line()
    }
    console.line("MPI task timing breakdown:")
    console.line("Section |  min time  |  avg time  |  max time  |%varavg| %total")
    console.line("---------------------------------------------------------------")
    var accounted = 0.0
    for phase in StepTimer.Phase.allCases {
      let t = timer.seconds[phase.rawValue]
      let (lo, avg, hi) = (comm.allReduce(t, .min), comm.allReduce(t, .sum) / Double(ranks), comm.allReduce(t, .max))
      let variance = comm.allReduce((t - avg) * (t - avg), .sum) / Double(ranks)
      accounted += avg
      let label = phase.label.padding(toLength: 8, withPad: " ", startingAt: 0)
      console.line(label + String(format: "| %-10.5g | %-10.5g | %-10.5g | %5.1f | %5.2f", lo, avg, hi,
                          avg > 0 ? 100 * variance.squareRoot() / avg : 0, loopTime > 0 ? 100 * avg / loopTime : 0))
    }
    let other = max(loopTime - accounted, 0)
    console.line(String(format: "Other   |            | %-10.5g |            |       | %5.2f", other,
                        loopTime > 0 ? 100 * other / loopTime : 0))
    console.line()
    statistic("Nlocal", Double(atoms.ownedCount))
    statistic("Nghost", Double(atoms.ghostCount))
    let neighborCount = Double(list.pairCount)
    statistic("Neighs", neighborCount)
    printTraffic(traffic, steps: steps)
    console.line()
    let totalNeighbors = comm.allReduce(neighborCount, .sum)
    console.line(String(format: "Total # of neighbors = %.0f", totalNeighbors))
    console.line(String(format: "Ave neighs/atom = %.6f", natoms > 0 ? totalNeighbors / Double(natoms) : 0))
    console.line("Neighbor list builds = \(policy.builds)")
    console.line(policy.settings.check ? "Dangerous builds = \(policy.dangerousBuilds)" : "Dangerous builds not checked")
    for line in potential.runSummary(sumOverRanks: { self.comm.allReduce($0, .sum) }) { console.line(line) }
    console.line()
  }

  /// Per step and rank: the bytes and point-to-point messages sent (ghost refreshes, reverse forces,
  /// migration and ghost rebuilds), and the collectives (reductions, gathers) every rank joins.
  private func printTraffic(_ traffic: CommunicationTraffic, steps: Int) {
    let perStep = 1 / Double(max(steps, 1))
    statistic("Comm bytes/step", Double(traffic.bytes) * perStep)
    statistic("Comm messages/step", Double(traffic.messages) * perStep)
    console.line(String(format: "Collectives/step = %.6g", Double(traffic.collectives) * perStep))
  }

  private func statistic(_ name: String, _ value: Double) {
    let avg = comm.allReduce(value, .sum) / Double(comm.size)
    console.line(name + String(format: ":  %12.6g ave %12.6g max %12.6g min", avg,
                        comm.allReduce(value, .max), comm.allReduce(value, .min)))
  }
}
