import Atoms
import Communication
import Decomposition
import Dynamics
import Foundation
import Geometry
import Neighbors
import Output
import Potentials

/// How a run reaches the job around it: whether to stop early (signal, wall time; agreed by every
/// rank) and how to write the restart file of a stop or a periodic restart.
struct JobControl {
  var stopReason: () -> String?
  var writeRestart: (String) throws -> Void
}

/// One `run N` (LAMMPS `Verlet`): owns what lives only while atoms move — the halo, atom migration,
/// the neighbour list and its rebuild policy, the phase timer — and moves the `system` forward with
/// the `setup`'s force field, fixes and writers. Data flows one way through a step: integrate →
/// (rebuild | forward halo) → forces → reverse halo → integrate → output.
final class Integrator {
  let system: System
  private let setup: RunSetup
  let comm: Communicator
  let console: Console
  private let job: JobControl
  let forceField: ForceField
  private let fixes: [(id: String, fix: Fix)]
  private let writers: [Writer]
  private let thermo: ThermoWriter
  private let halo = HaloExchange()
  private let migration = AtomMigration()
  let list: NeighborList
  let policy: RebuildPolicy
  let timer = StepTimer()
  var context: FixContext
  private let steps: Int
  private let fullSummary: Bool

  init(span: RunSpan, system: System, setup: RunSetup, forceField: ForceField, thermoColumns: [ThermoColumn],
       thermoVariable: @escaping (String, ThermoState) throws -> Double, comm: Communicator, console: Console,
       job: JobControl) {
    steps = span.steps
    fullSummary = span.fullSummary
    self.system = system
    self.setup = setup
    self.comm = comm
    self.console = console
    self.job = job
    self.forceField = forceField
    fixes = setup.fixes
    let potential = forceField.potential
    let settings = setup.effectiveRebuild(system.units)
    list = NeighborList(kind: potential.neighborKind, cutoff: potential.cutoff + settings.skin)
    policy = RebuildPolicy(settings: settings)
    let step = system.clock.step
    let dt = system.clock.timestep ?? system.units.defaultTimestep
    context = FixContext(atoms: system.atoms, boxState: system.boxState!, masses: system.masses, units: system.units,
                         comm: comm, timestep: dt, step: step, runStart: span.rampStart, runEnd: span.rampEnd,
                         atomCount: system.atomCount)
    thermo = ThermoWriter(columns: thermoColumns, settings: setup.thermo, console: console, units: system.units,
                          atomCount: system.atomCount, firstStep: step, lastStep: step + steps, timestep: dt,
                          policy: policy, potential: potential, fixes: fixes,
                          variable: thermoVariable)
    for dump in setup.dumps {
      dump.units = system.units.name
      dump.timestep = dt
      dump.thermoRow = (thermo.columns, { [thermo] in try thermo.rowValues($0) })
    }
    writers = [thermo] + setup.dumps + forceField.writers + [setup.restarts]
    setup.restarts.save = job.writeRestart
  }

  /// The state of the run's last thermo row.
  var lastThermo: ThermoState? { thermo.lastState }

  var atoms: AtomStore { system.atoms }
  private var box: Box { system.boxState!.box }
  private var step: Int { system.clock.step }

  /// LAMMPS `Verlet::setup` then `Verlet::run`; `canonicalOrder`: the atoms came from a restart and
  /// are put in id order at the setup, as the uninterrupted run had them.
  func run(canonicalOrder: Bool) throws {
    let settings = policy.settings
    let potential = forceField.potential
    console.line("Neighbor list info: cutoff \(potential.cutoff) + skin \(settings.skin), "
      + "every \(settings.every) delay \(settings.delay) check \(settings.check ? "yes" : "no")")
    try rebuild(isSetup: true, canonicalOrder: canonicalOrder)
    var forces = try computeForces(dueWriters(isSetup: true))
    context.atomCount = comm.allReduce(atoms.ownedCount, .sum)
    for (_, fix) in fixes { fix.setup(context) }
    let runStart = StepTimer.now()
    timer.reset()
    let trafficAtStart = comm.traffic
    console.line("Setting up Verlet run ...")
    console.line("  Unit style    : \(system.units.name)")
    console.line("  Current step  : \(step)")
    console.line("  Time step     : \(context.timestep)")
    console.line(ThermoFormat.header(thermo.columns))
    thermo.start(at: runStart)
    try write(forces.due, forces.evaluation)
    timer.start()

    for _ in 0..<steps {
      system.clock.step += 1
      context.step = step
      try initialIntegrate()
      // A restart step rebuilds in canonical order, as the run continued from that file will.
      let restartDue = setup.restarts.isDue(at: step, isSetup: false)
      if try rebuildIsDue(forced: restartDue) {
        timer.stamp(.communication)
        // A barostat may flip a skewed box here (LAMMPS pre_exchange): the rebuild then wraps and
        // migrates every atom, and sub-domains, ghosts and bins follow the new box.
        for (_, fix) in fixes { fix.preExchange(context) }
        timer.stamp(.modify)
        try rebuild(canonicalOrder: restartDue)
      } else {
        halo.forwardPositions(atoms, box: box, comm: comm)
        timer.stamp(.communication)
      }
      forces = try computeForces(dueWriters(isSetup: false))
      for (_, fix) in fixes { fix.postForce(context) }
      for (_, fix) in fixes { fix.finalIntegrate(context) }
      for (_, fix) in fixes { fix.endOfStep(context) }
      timer.stamp(.modify)
      if !forces.due.isEmpty {
        try write(forces.due, forces.evaluation)
        timer.stamp(.output)
      }
      if let reason = job.stopReason() { try stop(reason) }
    }
    printRunSummary(steps: steps, loopTime: StepTimer.now() - runStart, traffic: comm.traffic - trafficAtStart,
                    full: fullSummary)
  }

  /// An early stop: the restart goes to the deck's next periodic restart file, or `tessera.restart`.
  private func stop(_ reason: String) throws -> Never {
    let path = setup.restarts.files.isEmpty ? "tessera.restart" : setup.restarts.path(at: step)
    try job.writeRestart(path)
    throw StoppedEarly(description: "\(reason) at step \(step): restart written to \(path); stopping")
  }

  private func initialIntegrate() throws {
    for (id, fix) in fixes {
      do { try fix.initialIntegrate(context) } catch { throw RunError("fix \(id): \(error)") }
    }
    timer.stamp(.modify)
  }

  /// As LAMMPS's Neighbor::decide: a restart or a fix (balance) forces the rebuild before the policy
  /// counts the step.
  private func rebuildIsDue(forced: Bool) throws -> Bool {
    forced || fixes.contains { $0.fix.forcesRebuild(at: step) }
      || policy.shouldRebuild(atoms, box: box, anyRankMoved: { comm.any($0) })
  }

  private func dueWriters(isSetup: Bool) -> [Writer] { writers.filter { $0.isDue(at: step, isSetup: isSetup) } }

  /// The Output phase: every writer due at this step, in the order thermo, dumps, the force field's
  /// files, restarts.
  private func write(_ due: [Writer], _ forces: ForceEvaluation) throws {
    let output = OutputStep(step: step, time: system.clock.time(units: system.units), box: box, atoms: atoms,
                            masses: system.masses, comm: comm, forces: forces)
    for writer in due { try writer.write(output) }
  }

  /// Wraps atoms into the box, moves them to their owners (a fix may re-cut the grid first), rebuilds
  /// ghosts and the neighbour list.
  private func rebuild(isSetup: Bool = false, canonicalOrder: Bool = false) throws {
    let box = self.box
    atoms.clearGhosts()
    wrapOwnedAtomsDroppingLost(box)
    var plan = MigrationPlan(grid: system.grid!, isSetup: isSetup, skin: policy.settings.skin,
                             fractions: { [atoms] in wrappedFractions(atoms, box) })
    for (_, fix) in fixes { try fix.beforeMigration(context, &plan) }
    system.grid = plan.grid
    migration.exchange(atoms, box: box, grid: plan.grid, comm: comm)
    for (_, fix) in fixes { fix.afterMigration(context) }
    if canonicalOrder { atoms.sortOwnedByTag() }
    halo.borders(atoms, box: box, grid: plan.grid, cutoff: list.cutoff, comm: comm)
    timer.stamp(.communication)
    list.build(atoms, box: box)
    policy.didBuild(atoms, box: box, countsAsBuild: !isSetup)
    try checkNeighborCounts()
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
  private func checkNeighborCounts() throws {
    var most = 0
    for i in 0..<list.ownedCount { most = max(most, Int(list.offsets[i + 1] - list.offsets[i])) }
    let largest = comm.allReduce(most, .max)
    if largest > setup.neighborOneLimit {
      throw RunError("neighbor list overflow: an atom has \(largest) neighbours, more than neigh_modify one \(setup.neighborOneLimit)")
    }
  }

  /// Forces on owned and ghost atoms, then ghost forces (and per-atom energies, when a writer due at
  /// this step needs them) folded back to their owners; the fixes' context gets the virial.
  private func computeForces(_ due: [Writer]) throws -> (due: [Writer], evaluation: ForceEvaluation) {
    let potential = forceField.potential
    let perAtomEnergy = due.contains { $0.needs.contains(.perAtomEnergy) }
    atoms.clearForces()
    forceField.willCompute(step)
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
    try forceField.didFoldForces(step, atoms, halo, comm)
    var energies: [Double]?
    if perAtomEnergy, var folded = potential.perAtomEnergy {
      folded.withUnsafeMutableBufferPointer { halo.reverse($0.baseAddress!, width: 1, comm: comm) }
      energies = folded
    }
    timer.stamp(.communication)
    context.localVirial = result.virial
    return (due, ForceEvaluation(energy: result.energy, virial: result.virial, perAtomEnergies: energies))
  }

  /// Reports an error only this rank has seen and ends the whole job (LAMMPS `Error::one`).
  private func failLocally(_ message: String) -> Never {
    let text = "ERROR on proc \(comm.rank): \(message)\n"
    FileHandle.standardError.write(Data(text.utf8))
    console.flush()
    comm.abort(exitCode: 1)
  }
}

/// Owned atoms' fractional coordinates, wrapped into [0, 1) along periodic dimensions.
func wrappedFractions(_ atoms: AtomStore, _ box: Box) -> [SIMD3<Double>] {
  (0..<atoms.ownedCount).map { i in
    var lambda = box.fractional(atoms.positionOf(i))
    for d in 0..<3 where box.periodic[d] { lambda[d] -= lambda[d].rounded(.down) }
    return lambda
  }
}
