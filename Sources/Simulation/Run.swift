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
  func runSteps(_ steps: Int, potential: Potential, command: Command) throws {
    let columns = try thermoColumns(command)
    // Fixes may change the box (a barostat); everything downstream reads it from here.
    let boxState = BoxState(box: box!)
    let dt = timestep ?? units.defaultTimestep
    let settings = effectiveRebuild
    let list = NeighborList(kind: potential.neighborKind, cutoff: potential.cutoff + settings.skin)
    let policy = RebuildPolicy(settings: settings)
    neighbors = list
    rebuildPolicy = policy

    // Setup: decompose, build ghosts and lists, forces at the first step.
    console.line("Neighbor list info: cutoff \(potential.cutoff) + skin \(settings.skin), "
      + "every \(settings.every) delay \(settings.delay) check \(settings.check ? "yes" : "no")")
    try rebuild(boxState.box, list, policy, potential, isSetup: true, canonicalOrder: restoredFromRestart)
    restoredFromRestart = false
    var due = dumpsDue()
    var energyVirial = try computeForces(potential, list, boxState.box, perAtomEnergy: due.contains { $0.needsEnergies })
    boxState.localVirial = energyVirial.virial
    var context = FixContext(atoms: atoms, boxState: boxState, masses: masses, units: units, comm: comm, timestep: dt,
                             step: step, runStart: step, runEnd: step + steps,
                             atomCount: comm.allReduce(atoms.ownedCount, .sum))
    for (_, fix) in fixes { fix.setup(context) }
    let runStart = StepTimer.now()
    timer.reset()
    let trafficAtStart = comm.traffic
    let firstStep = step
    var last = (step: step, time: runStart)
    console.line("Setting up Verlet run ...")
    console.line("  Unit style    : \(units.name)")
    console.line("  Current step  : \(step)")
    console.line("  Time step     : \(dt)")
    console.line(ThermoFormat.header(columns))
    try writeThermo(columns, energyVirial, potential, firstStep: firstStep, runStart: runStart, last: &last, dt: dt)
    try writeDumps(due, energies: foldedEnergies)
    timer.start()

    for _ in 0..<steps {
      step += 1
      context.step = step
      for (id, fix) in fixes {
        do { try fix.initialIntegrate(context) } catch { throw RunError("fix \(id): \(error)") }
      }
      if boxState.box != self.box { self.box = boxState.box }
      timer.stamp(.modify)
      // A restart step rebuilds in canonical order, as the run continued from that file will.
      let restartDue = restarts.isDue(at: step)
      // As LAMMPS's Neighbor::decide: a restart or a fix balance forces the rebuild before the policy counts the step.
      let forced = restartDue || fixes.contains { ($0.fix as? LoadBalanceFix)?.forcesRebuild(at: step) == true }
      if forced || policy.shouldRebuild(atoms, box: boxState.box, anyRankMoved: { comm.any($0) }) {
        timer.stamp(.communication)
        // A barostat may flip a skewed box here (LAMMPS pre_exchange): the rebuild then wraps and
        // migrates every atom, and sub-domains, ghosts and bins follow the new box.
        for (_, fix) in fixes { fix.preExchange(context) }
        if boxState.box != self.box { self.box = boxState.box }
        timer.stamp(.modify)
        try rebuild(boxState.box, list, policy, potential, canonicalOrder: restartDue)
        // Atoms leaving through a fixed boundary change the degrees of freedom.
        context.atomCount = comm.allReduce(atoms.ownedCount, .sum)
      } else {
        halo.forwardPositions(atoms, box: boxState.box, comm: comm)
        timer.stamp(.communication)
      }
      let box = boxState.box
      due = dumpsDue()
      energyVirial = try computeForces(potential, list, box, perAtomEnergy: due.contains { $0.needsEnergies })
      boxState.localVirial = energyVirial.virial
      for (_, fix) in fixes { fix.postForce(context) }
      for (_, fix) in fixes { fix.finalIntegrate(context) }
      for (_, fix) in fixes { fix.endOfStep(context) }
      timer.stamp(.modify)
      if thermo.every > 0 && step % thermo.every == 0 || step == firstStep + steps {
        try writeThermo(columns, energyVirial, potential, firstStep: firstStep, runStart: runStart, last: &last, dt: dt)
        timer.stamp(.output)
      }
      if !due.isEmpty {
        try writeDumps(due, energies: foldedEnergies)
        timer.stamp(.output)
      }
      if restartDue {
        try writePeriodicRestart()
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
    let path = restarts.files.isEmpty ? "tessera.restart"
      : restarts.files[restarts.next].replacingOccurrences(of: "*", with: "\(step)")
    try writeRestart(to: path, midRun: true)
    return path
  }

  /// Wraps atoms into the box, moves them to their owners, rebuilds ghosts and the neighbour list.
  private func rebuild(_ box: Box, _ list: NeighborList, _ policy: RebuildPolicy,
                       _ potential: Potential, isSetup: Bool = false, canonicalOrder: Bool = false) throws {
    atoms.clearGhosts()
    var i = 0
    while i < atoms.ownedCount {
      var x = atoms.positionOf(i), image = atoms.imageOf(i)
      box.wrap(&x, image: &image)
      // Beyond a fixed boundary an atom is gone, as in LAMMPS; the thermo check reports the loss.
      let lambda = box.fractional(x)
      if (0..<3).contains(where: { !box.periodic[$0] && (lambda[$0] < 0 || lambda[$0] >= 1) }) {
        atoms.removeOwned(at: i)
        continue
      }
      atoms.setPosition(i, x)
      atoms.setImage(i, image)
      i += 1
    }
    // A fix balance moves the cuts before atoms migrate (LAMMPS pre_exchange), then measures the result.
    try balanceBeforeMigration(box, setup: isSetup)
    migration.exchange(atoms, box: box, grid: grid!, comm: comm)
    balanceAfterMigration()
    if canonicalOrder { atoms.sortOwnedByTag() }
    halo.borders(atoms, box: box, grid: grid!, cutoff: list.cutoff, comm: comm)
    timer.stamp(.communication)
    list.build(atoms, box: box)
    policy.didBuild(atoms, box: box, countsAsBuild: !isSetup)
    var most = 0
    for i in 0..<list.ownedCount { most = max(most, Int(list.offsets[i + 1] - list.offsets[i])) }
    if comm.allReduce(most, .max) > neighborOneLimit {
      throw RunError("neighbor list overflow: an atom has \(comm.allReduce(most, .max)) neighbours, "
        + "more than neigh_modify one \(neighborOneLimit)")
    }
    timer.stamp(.neighbor)
  }

  /// Forces on owned and ghost atoms, then ghost forces folded back to their owners.
  private func computeForces(_ potential: Potential, _ list: NeighborList, _ box: Box,
                             perAtomEnergy: Bool = false) throws -> EnergyVirial {
    atoms.clearForces()
    let deepPotential = potential as? DeepPotentialForce
    deepPotential?.step = step
    var result = EnergyVirial()
    do {
      result = try potential.compute(atoms, list, box, perAtomEnergy ? [.energy, .virial, .perAtomEnergy] : [.energy, .virial],
                                     ghosts: halo.rows(comm: comm))
    } catch {
      // Only this rank may know: stop every rank with its message rather than deadlock.
      failLocally("\(error)")
    }
    timer.stamp(.pair)
    halo.reverseForces(atoms, comm: comm)
    if let deepPotential, deepPotential.deviationPending {
      try deepPotential.ensemble!.record(step: step, atoms: atoms, halo: halo, comm: comm)
    }
    if perAtomEnergy, var energies = potential.perAtomEnergy {
      energies.withUnsafeMutableBufferPointer { halo.reverse($0.baseAddress!, width: 1, comm: comm) }
      foldedEnergies = energies
    }
    timer.stamp(.communication)
    return result
  }

  /// Reports an error only this rank has seen and ends the whole job (LAMMPS `Error::one`).
  func failLocally(_ message: String) -> Never {
    let text = "ERROR on proc \(comm.rank): \(message)\n"
    FileHandle.standardError.write(Data(text.utf8))
    console.flush()
    comm.abort(exitCode: 1)
  }

  /// Reduces the thermodynamic state, checks for lost atoms and non-finite values, prints a row.
  private func writeThermo(_ columns: [ThermoColumn], _ ev: EnergyVirial, _ potential: Potential, firstStep: Int,
                           runStart: Double, last: inout (step: Int, time: Double), dt: Double) throws {
    var sums = [ev.energy] + ev.virial.elements + [Double(atoms.ownedCount), 0, 0, Double(potential.neighborOverflow),
                                          console.writeFailure == nil ? 0 : 1]
    for i in 0..<atoms.ownedCount {
      sums[8] += masses[atoms.type[i]]
      let x = atoms.positionOf(i)
      if !(x.x.isFinite && x.y.isFinite && x.z.isFinite) { sums[9] += 1 }
    }
    comm.allReduce(&sums, .sum)
    let count = Int(sums[7])
    // Only rank 0 writes the log; every rank stops together when it could not.
    if sums[11] > 0 { throw RunError(console.writeFailure ?? "the log file could not be written") }
    if sums[9] > 0 || !sums[0].isFinite {
      throw RunError("non-numeric atom coordinates or energy at step \(step) (\(Int(sums[9])) atoms); "
        + "the system blew up — check the timestep and the potential")
    }
    if count != atomCount {
      switch thermo.lostAtoms {
      case .error: throw RunError("lost atoms at step \(step): original \(atomCount) current \(count)")
      case .warn: console.error("WARNING: lost atoms at step \(step): original \(atomCount) current \(count)")
      case .ignore: break
      }
    }
    let now = StepTimer.now()
    let interval = now - last.time
    let stepsDone = step - last.step
    let state = ThermoState(
      step: step, atoms: count, potentialEnergy: sums[0],
      kinetic: kineticTensor(atoms, masses: masses, units: units, comm: comm),
      virial: Array(sums[1...6]), box: box!, totalMass: sums[8], elapsedSteps: step - firstStep,
      time: currentTime, cpu: now - runStart,
      tpcpu: interval > 0 && stepsDone > 0 ? Double(stepsDone) * dt / interval : 0,
      spcpu: interval > 0 && stepsDone > 0 ? Double(stepsDone) / interval : 0,
      neighborBuilds: rebuildPolicy?.builds ?? 0, dangerousBuilds: rebuildPolicy?.dangerousBuilds ?? 0,
      overflow: Int(sums[10]), coupledEnergy: fixes.reduce(0) { $0 + $1.fix.coupledEnergy })
    last = (step, now)
    lastThermo = state
    console.line(thermo.format.row(columns, columns.map { thermoValue($0.keyword, state) ?? 0 }))
    if thermo.flush { console.flush() }
  }
}

import Foundation
