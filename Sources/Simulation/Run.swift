import Atoms
import Communication
import Decomposition
import Dynamics
import Geometry
import InputDeck
import Neighbors
import Output
import Potentials

/// A failure during a run that every rank has detected together.
public struct RunError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

extension Simulation {
  /// `run N`: LAMMPS `Verlet::setup` then `Verlet::run`. Each phase is timed; data flows one way
  /// through the step: integrate → (rebuild | forward halo) → forces → reverse halo → integrate →
  /// output.
  func runSteps(_ steps: Int, forceField: ForceField, command: Command) throws {
    let potential = forceField.potential
    let boxState = boxState!
    let dt = timestep ?? units.defaultTimestep
    let settings = effectiveRebuild
    let list = NeighborList(kind: potential.neighborKind, cutoff: potential.cutoff + settings.skin)
    let policy = RebuildPolicy(settings: settings)
    neighbors = list
    rebuildPolicy = policy
    let runFixes = fixes.map(\.fix)
    var context = FixContext(atoms: atoms, boxState: boxState, masses: masses, units: units, comm: comm, timestep: dt,
                             step: step, runStart: step, runEnd: step + steps, atomCount: atomCount)
    let thermoWriter = ThermoWriter(columns: try thermoColumns(command), settings: thermo, console: console, units: units,
                                    atomCount: atomCount, firstStep: step, lastStep: step + steps, timestep: dt,
                                    policy: policy, potential: potential, fixes: fixes)
    defer { lastThermo = thermoWriter.lastState ?? lastThermo }
    let writers: [Writer] = [thermoWriter] + dumps + forceField.writers + [restarts]
    restarts.save = { [unowned self] path in try self.writeRestart(to: path, midRun: true) }

    // Setup: decompose, build ghosts and lists, forces at the first step.
    console.line("Neighbor list info: cutoff \(potential.cutoff) + skin \(settings.skin), "
      + "every \(settings.every) delay \(settings.delay) check \(settings.check ? "yes" : "no")")
    try rebuild(list, policy, &context, isSetup: true, canonicalOrder: restoredFromRestart)
    restoredFromRestart = false
    var due = writers.filter { $0.isDue(at: step, isSetup: true) }
    var forces = try computeForces(forceField, list, needs: due.reduce([]) { $0.union($1.needs) })
    context.localVirial = forces.virial
    context.atomCount = comm.allReduce(atoms.ownedCount, .sum)
    for fix in runFixes { fix.setup(context) }
    let runStart = StepTimer.now()
    timer.reset()
    let trafficAtStart = comm.traffic
    console.line("Setting up Verlet run ...")
    console.line("  Unit style    : \(units.name)")
    console.line("  Current step  : \(step)")
    console.line("  Time step     : \(dt)")
    console.line(ThermoFormat.header(thermoWriter.columns))
    thermoWriter.start(at: runStart)
    try write(due, forces, isSetup: true)
    timer.start()

    for _ in 0..<steps {
      step += 1
      context.step = step
      for (id, fix) in fixes {
        do { try fix.initialIntegrate(context) } catch { throw RunError("fix \(id): \(error)") }
      }
      timer.stamp(.modify)
      // A restart step rebuilds in canonical order, as the run continued from that file will.
      let restartDue = restarts.isDue(at: step, isSetup: false)
      // As LAMMPS's Neighbor::decide: a restart or a fix (balance) forces the rebuild before the policy counts the step.
      let forced = restartDue || runFixes.contains { $0.forcesRebuild(at: step) }
      if forced || policy.shouldRebuild(atoms, box: boxState.box, anyRankMoved: { comm.any($0) }) {
        timer.stamp(.communication)
        // A barostat may flip a skewed box here (LAMMPS pre_exchange): the rebuild then wraps and
        // migrates every atom, and sub-domains, ghosts and bins follow the new box.
        for fix in runFixes { fix.preExchange(context) }
        timer.stamp(.modify)
        try rebuild(list, policy, &context, canonicalOrder: restartDue)
      } else {
        halo.forwardPositions(atoms, box: boxState.box, comm: comm)
        timer.stamp(.communication)
      }
      due = writers.filter { $0.isDue(at: step, isSetup: false) }
      forces = try computeForces(forceField, list, needs: due.reduce([]) { $0.union($1.needs) })
      context.localVirial = forces.virial
      for fix in runFixes { fix.postForce(context) }
      for fix in runFixes { fix.finalIntegrate(context) }
      for fix in runFixes { fix.endOfStep(context) }
      timer.stamp(.modify)
      if !due.isEmpty {
        try write(due, forces, isSetup: false)
        timer.stamp(.output)
      }
      if let reason = stopReason() {
        let path = try writeStopRestart()
        throw StoppedEarly(description: "\(reason) at step \(step): restart written to \(path); stopping")
      }
    }
    let loopTime = StepTimer.now() - runStart
    printRunSummary(steps: steps, loopTime: loopTime, dt: dt, list: list, policy: policy, potential: potential,
                    traffic: comm.traffic - trafficAtStart)
  }

  /// The Output phase: every writer due at this step, in the order thermo, dumps, the force field's
  /// files, restarts.
  private func write(_ due: [Writer], _ forces: ForceEvaluation, isSetup: Bool) throws {
    let output = OutputStep(step: step, time: currentTime, box: box!, atoms: atoms, masses: masses, comm: comm,
                            forces: forces, isSetup: isSetup)
    for writer in due { try writer.write(output) }
  }

  /// Why the job must stop now, agreed by every rank (a signal may reach only some of them).
  private func stopReason() -> String? {
    let outOfTime = wallTimeLimit.map { StepTimer.now() - jobStart >= $0 } ?? false
    var flags: InlineArray<2, Double> = [StopRequest.caughtSignal != 0 ? 1 : 0, outOfTime ? 1 : 0]
    comm.allReduce(&flags, .max)
    if flags[0] > 0 { return StopRequest.signalName.map { "Caught \($0)" } ?? "Signal caught on another rank" }
    return flags[1] > 0 ? "Wall-time limit reached" : nil
  }

  /// The restart of an early stop: the deck's next periodic restart file, or `tessera.restart`.
  private func writeStopRestart() throws -> String {
    let path = restarts.files.isEmpty ? "tessera.restart" : restarts.path(at: step)
    try writeRestart(to: path, midRun: true)
    return path
  }

  /// Wraps atoms into the box, moves them to their owners (a fix may re-cut the grid first), rebuilds
  /// ghosts and the neighbour list.
  private func rebuild(_ list: NeighborList, _ policy: RebuildPolicy, _ context: inout FixContext,
                       isSetup: Bool = false, canonicalOrder: Bool = false) throws {
    let box = boxState!.box
    atoms.clearGhosts()
    wrapOwnedAtomsDroppingLost(box)
    var plan = MigrationPlan(grid: grid!, isSetup: isSetup, skin: effectiveRebuild.skin,
                             fractions: { [unowned self] in self.wrappedFractions(box) })
    for (_, fix) in fixes { try fix.beforeMigration(context, &plan) }
    grid = plan.grid
    migration.exchange(atoms, box: box, grid: grid!, comm: comm)
    for (_, fix) in fixes { fix.afterMigration(context) }
    if canonicalOrder { atoms.sortOwnedByTag() }
    halo.borders(atoms, box: box, grid: grid!, cutoff: list.cutoff, comm: comm)
    timer.stamp(.communication)
    list.build(atoms, box: box)
    policy.didBuild(atoms, box: box, countsAsBuild: !isSetup)
    try checkNeighborCounts(list)
    timer.stamp(.neighbor)
    // Atoms leaving through a fixed boundary change the degrees of freedom.
    if !isSetup { context.atomCount = comm.allReduce(atoms.ownedCount, .sum) }
  }

  /// Wraps owned atoms into the periodic box; beyond a fixed boundary an atom is gone, as in LAMMPS
  /// (the thermo check reports the loss).
  private func wrapOwnedAtomsDroppingLost(_ box: Box) {
    var i = 0
    while i < atoms.ownedCount {
      var x = atoms.positionOf(i), image = atoms.imageOf(i)
      box.wrap(&x, image: &image)
      let lambda = box.fractional(x)
      if (0..<3).contains(where: { !box.periodic[$0] && (lambda[$0] < 0 || lambda[$0] >= 1) }) {
        atoms.removeOwned(at: i)
        continue
      }
      atoms.setPosition(i, x)
      atoms.setImage(i, image)
      i += 1
    }
  }

  /// `neigh_modify one`: more neighbours for one atom than that is an error on every rank.
  private func checkNeighborCounts(_ list: NeighborList) throws {
    var most = 0
    for i in 0..<list.ownedCount { most = max(most, Int(list.offsets[i + 1] - list.offsets[i])) }
    let largest = comm.allReduce(most, .max)
    if largest > neighborOneLimit {
      throw RunError("neighbor list overflow: an atom has \(largest) neighbours, more than neigh_modify one \(neighborOneLimit)")
    }
  }

  /// Forces on owned and ghost atoms, then ghost forces (and per-atom energies, when a due writer needs
  /// them) folded back to their owners.
  private func computeForces(_ forceField: ForceField, _ list: NeighborList, needs: WriterNeeds) throws -> ForceEvaluation {
    let potential = forceField.potential
    let perAtomEnergy = needs.contains(.perAtomEnergy)
    atoms.clearForces()
    forceField.willCompute(step)
    var result = EnergyVirial()
    do {
      result = try potential.compute(atoms, list, boxState!.box,
                                     perAtomEnergy ? [.energy, .virial, .perAtomEnergy] : [.energy, .virial],
                                     ghosts: halo.rows(comm: comm))
    } catch {
      // Only this rank may know: stop every rank with its message rather than deadlock.
      failLocally("\(error)")
    }
    timer.stamp(.pair)
    halo.reverseForces(atoms, comm: comm)
    try forceField.didFoldForces(step, atoms, halo, comm)
    var energies: [Double]?
    if perAtomEnergy, var folded = potential.perAtomEnergy {
      folded.withUnsafeMutableBufferPointer { halo.reverse($0.baseAddress!, width: 1, comm: comm) }
      energies = folded
    }
    timer.stamp(.communication)
    return ForceEvaluation(energy: result.energy, virial: result.virial, perAtomEnergies: energies)
  }

  /// Reports an error only this rank has seen and ends the whole job (LAMMPS `Error::one`).
  func failLocally(_ message: String) -> Never {
    let text = "ERROR on proc \(comm.rank): \(message)\n"
    FileHandle.standardError.write(Data(text.utf8))
    console.flush()
    comm.abort(exitCode: 1)
  }
}

import Foundation
