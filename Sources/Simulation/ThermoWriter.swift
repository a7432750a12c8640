import Atoms
import Dynamics
import Geometry
import Neighbors
import Output
import Potentials

/// The thermo output of one run (LAMMPS `Thermo`): a row at the setup, every `thermo N` steps and at
/// the run's last step. Each row reduces the state over ranks, and stops the run on lost atoms (as
/// `thermo_modify lost` says), non-finite coordinates or energy, or a log that could not be written.
final class ThermoWriter: Writer {
  let columns: [ThermoColumn]
  private let settings: ThermoSettings
  private let console: Console
  private let units: UnitSystem
  /// Atoms in the system as created or read: what the lost-atom check compares against.
  private let atomCount: Int
  private let firstStep: Int, lastStep: Int
  private let timestep: Double
  private let policy: RebuildPolicy
  private let potential: Potential
  private let fixes: [(id: String, fix: Fix)]
  /// A `v_NAME` column's value for a row's state.
  private let variable: (String, ThermoState) throws -> Double
  private var runStart = 0.0
  private var last = (step: 0, time: 0.0)
  /// The state of the last row (for `print` and equal-style variables after the run).
  private(set) var lastState: ThermoState?

  init(columns: [ThermoColumn], settings: ThermoSettings, console: Console, units: UnitSystem, atomCount: Int,
       firstStep: Int, lastStep: Int, timestep: Double, policy: RebuildPolicy, potential: Potential,
       fixes: [(id: String, fix: Fix)], variable: @escaping (String, ThermoState) throws -> Double) {
    self.columns = columns
    self.settings = settings
    self.console = console
    self.units = units
    self.atomCount = atomCount
    self.firstStep = firstStep
    self.lastStep = lastStep
    self.timestep = timestep
    self.policy = policy
    self.potential = potential
    self.fixes = fixes
    self.variable = variable
  }

  /// The run's loop starts its clock: cpu, tpcpu and spcpu count from here.
  func start(at time: Double) {
    runStart = time
    last = (firstStep, time)
  }

  func isDue(at step: Int, isSetup: Bool) -> Bool {
    isSetup || settings.every > 0 && step % settings.every == 0 || step == lastStep
  }

  func write(_ output: OutputStep) throws {
    let values = try rowValues(output, record: true)
    console.line(settings.format.row(columns, values))
    if settings.flush { console.flush() }
    if let line = console.progress?.line(step: output.step, first: firstStep, last: lastStep,
                                         elapsed: StepTimer.now() - runStart) {
      console.progressLine(line)
    }
  }

  /// The values of a thermo row at `output` (collective). `record`: the row is printed, so it moves the
  /// clock tpcpu and spcpu count from and becomes `lastState`; a netcdf dump's `thermo yes` values do neither.
  func rowValues(_ output: OutputStep, record: Bool = false) throws -> [Double] {
    let state = try reduce(output, record: record)
    let normalize = settings.normalize ?? (units.name == "lj")
    return try columns.map { column in
      if let name = parseVariableReference(column.keyword) { return try variable(name, state) }
      return state.value(column.keyword, units: units, normalize: normalize, fixOutput: { fixOutput($0, fixes) }) ?? 0
    }
  }

  /// The thermodynamic state summed over ranks, after the checks that stop a run.
  private func reduce(_ output: OutputStep, record: Bool) throws -> ThermoState {
    let atoms = output.atoms, masses = output.masses, comm = output.comm, step = output.step
    var sums = [output.forces.energy] + output.forces.virial.elements
      + [Double(atoms.ownedCount), 0, 0, Double(potential.neighborOverflow), console.writeFailure == nil ? 0 : 1]
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
      switch settings.lostAtoms {
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
      virial: Array(sums[1...6]), box: output.box, totalMass: sums[8], elapsedSteps: step - firstStep,
      time: output.time, cpu: now - runStart,
      tpcpu: interval > 0 && stepsDone > 0 ? Double(stepsDone) * timestep / interval : 0,
      spcpu: interval > 0 && stepsDone > 0 ? Double(stepsDone) / interval : 0,
      neighborBuilds: policy.builds, dangerousBuilds: policy.dangerousBuilds,
      overflow: Int(sums[10]), coupledEnergy: fixes.reduce(0) { $0 + $1.fix.coupledEnergy })
    if record {
      last = (step, now)
      lastState = state
    }
    return state
  }
}
