import Atoms
import Communication
import Decomposition
import Dynamics
import Geometry
import InputDeck
import Neighbors
import Output
import Potentials

/// The deck's interpreter state on one rank: the job (communicator, console, variables, whether it
/// runs or checks),
/// the settings that precede the box, and the two things commands build — the `system` (box, atoms,
/// masses, units, clock) and the `setup` of the runs (force field, fixes, writers, neighbour
/// settings). Each `run` hands both to an `Integrator`, which owns everything that lives only while
/// atoms move. The properties below the two parts name their fields for the command files (they hold
/// nothing themselves).
public final class Simulation {
  public let comm: Communicator
  public let console: Console
  public let variables = Variables()
  /// What `run`, `write_data`, `write_restart` and `balance` do: act (a run) or report (`tessera check`).
  let execution: Execution
  /// Recorded as the creator's version in the files Tessera writes (H5MD).
  public var programVersion = "unknown"

  // Settings fixed before the box exists.
  public var periodic = [true, true, true]
  public var requestedGrid = SIMD3<Int>(0, 0, 0)
  public var lattice: Lattice?
  public var regions: [String: Region] = [:]
  /// `group` definitions (`all` is implicit).
  var groups: [String: AtomGroup] = [:]

  let system = System()
  let setup = RunSetup()

  /// `--max-walltime`: the job stops cleanly, with a restart, once this many seconds have passed
  /// since `jobStart`.
  public var wallTimeLimit: Double?
  /// Worker threads per rank for Deep Potential evaluation when the deck's `pair_style deepmd`
  /// gives no `threads` keyword (`tessera run --threads N`); the deck's keyword wins, as a deck's
  /// `package` command wins over LAMMPS's `-pk`.
  public var modelThreads = 1
  public var jobStart = StepTimer.now()
  /// Fix states read from a restart, applied when the deck defines a fix with that ID and style.
  var pendingFixStates: [String: RestartFile.FixRecord] = [:]
  /// Per-atom fix states read from a restart (by fix ID, then atom id), applied with `pendingFixStates`.
  var pendingPerAtomStates: [String: [Int64: ArraySlice<Double>]] = [:]
  /// The model checksum a restart recorded: a different model is refused.
  var expectedModelChecksum: String?
  /// The atoms came from a restart: the first run's setup puts them in canonical order.
  var restoredFromRestart = false
  /// Shared by the commands that move atoms to their owners outside a run (`balance`).
  let migration = AtomMigration()
  /// Set by a `next` that exhausted its variable: the next `jump` is skipped.
  var skipNextJump = false
  /// The last reduced thermodynamic state (for `print` and equal-style variables after a run).
  var lastThermo: ThermoState?

  // The system's fields.
  public var units: UnitSystem { get { system.units } set { system.units = newValue } }
  var boxState: BoxState? { get { system.boxState } set { system.boxState = newValue } }
  public var box: Box? { system.boxState?.box }
  public var grid: ProcessorGrid? { get { system.grid } set { system.grid = newValue } }
  public var atoms: AtomStore { system.atoms }
  public var masses: Masses { get { system.masses } set { system.masses = newValue } }
  public var atomCount: Int { get { system.atomCount } set { system.atomCount = newValue } }
  public var step: Int { get { system.clock.step } set { system.clock.step = newValue } }
  public var timestep: Double? { get { system.clock.timestep } set { system.clock.timestep = newValue } }
  var currentTime: Double { system.clock.time(units: units) }

  // The set-up's fields.
  var forceField: ForceField? { get { setup.forceField } set { setup.forceField = newValue } }
  var skin: Double? { get { setup.skin } set { setup.skin = newValue } }
  var rebuild: RebuildSettings? { get { setup.rebuild } set { setup.rebuild = newValue } }
  var fixes: [(id: String, fix: Fix)] { get { setup.fixes } set { setup.fixes = newValue } }
  var thermo: ThermoSettings { get { setup.thermo } set { setup.thermo = newValue } }
  var dumps: [Dump] { get { setup.dumps } set { setup.dumps = newValue } }
  var restarts: RestartSchedule { get { setup.restarts } set { setup.restarts = newValue } }

  public init(comm: Communicator, console: Console, job: Job = .run) {
    self.comm = comm
    self.console = console
    switch job {
    case .run: execution = Performing()
    case .check(let plannedRanks):
      execution = Checking(plannedRanks: plannedRanks)
      console.opensLogFiles = false
    }
    variables.keywordValue = { [unowned self] name in self.keywordValue(name) }
  }

  /// The box, or a located error for commands that need one.
  func requireBox(_ command: Command) throws -> Box {
    guard let box else { throw command.error("the simulation box is not defined yet (create_box or read_data first)") }
    return box
  }
}

/// What a job does with its deck.
public enum Job: Sendable {
  case run
  /// `tessera check [-np N]`: every command builds the system and the set-up as in a run, every file
  /// is read; nothing runs and nothing is written, and each `run` reports its plan (for N ranks).
  case check(plannedRanks: Int?)
}

/// `pair_modify` settings that apply to the classical pair styles.
public struct PairSettings: Sendable {
  public var shift = false
}

/// `thermo`, `thermo_style`, `thermo_modify`.
public struct ThermoSettings {
  public var every = 0
  public var keywords = ["step", "temp", "epair", "emol", "etotal", "press"]
  public var normalize: Bool?
  public var format = ThermoFormat()
  public var flush = false
  public var lostAtoms = LostAtomPolicy.error
}

public enum LostAtomPolicy: String, Sendable { case error, warn, ignore }
