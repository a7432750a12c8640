import Foundation
import Output
import InputDeck

extension Simulation {
  /// `run N` on the system as the commands left it: an integrator for this run, with the set-up's
  /// force field, fixes and writers.
  func runSteps(_ span: RunSpan, forceField: ForceField, command: Command) throws {
    let job = JobControl(stopReason: { [unowned self] in self.stopReason() },
                         writeRestart: { [unowned self] path in try self.writeRestart(to: path, midRun: true) })
    let integrator = Integrator(span: span, system: system, setup: setup, forceField: forceField,
                                thermoColumns: try thermoColumns(command),
                                thermoVariable: { [unowned self] in try self.thermoVariable($0, at: $1, for: command) }, comm: comm, console: console, job: job)
    defer { lastThermo = integrator.lastThermo ?? lastThermo }
    let canonicalOrder = restoredFromRestart
    restoredFromRestart = false
    try integrator.run(canonicalOrder: canonicalOrder)
  }

  /// Why the job must stop now, agreed by every rank (a signal may reach only some of them).
  func stopReason() -> String? {
    let outOfTime = wallTimeLimit.map { StepTimer.now() - jobStart >= $0 } ?? false
    var flags: InlineArray<2, Double> = [StopRequest.caughtSignal != 0 ? 1 : 0, outOfTime ? 1 : 0]
    comm.allReduce(&flags, .max)
    if flags[0] > 0 { return StopRequest.signalName.map { "Caught \($0)" } ?? "Signal caught on another rank" }
    return flags[1] > 0 ? "Wall-time limit reached" : nil
  }

}
