import Atoms
import Communication
import Decomposition
import Dynamics
import Geometry
import InputDeck
import Neighbors
import Output
import Potentials

/// Everything one rank knows about a run, built up command by command from the deck (LAMMPS's
/// top-level objects, but owned here and passed explicitly to the modules that need them).
public final class Simulation {
  public let comm: Communicator
  public let console: Console
  public let variables = Variables()
  /// `tessera check`: validate every command, read every file, run nothing and write nothing.
  public let validateOnly: Bool
  /// Recorded as the creator's version in the files Tessera writes (H5MD).
  public var programVersion = "unknown"
  /// `tessera check -np N`: the rank count whose decomposition the check reports.
  public var plannedRanks: Int?

  // Settings fixed before the box exists.
  public var units = UnitSystem.lj
  public var periodic = [true, true, true]
  public var requestedGrid = SIMD3<Int>(0, 0, 0)
  public var lattice: Lattice?
  public var regions: [String: Region] = [:]

  // The system.
  /// The box, one copy: commands define it, a barostat changes it during a run.
  public internal(set) var boxState: BoxState?
  public var box: Box? { boxState?.box }
  public var grid: ProcessorGrid?
  /// Under `tessera check`: the planned rank count's grid once a `balance` has moved its cuts.
  var checkGrid: ProcessorGrid?
  public let atoms = AtomStore()
  public var masses = Masses(typeCount: 0)
  /// Atoms in the whole system, as created or read; the lost-atom check compares against it.
  public var atomCount = 0

  // Forces and neighbours.
  var forceField: ForceField?
  var pairStyleSettings: PairStyle?
  public var pairSettings = PairSettings()
  public var skin: Double?
  public var rebuild: RebuildSettings?
  public var neighborOneLimit = 2000

  // Dynamics and output.
  public var timestep: Double?
  public var step = 0
  /// Simulated time is LAMMPS's `atime + (step − atimestep) × dt`: `timeOrigin` at step
  /// `timeOriginStep`, moved only when the timestep changes, so that a run continued from a restart
  /// tells the same time, to the bit, as the run it continues.
  public var timeOrigin = 0.0
  public var timeOriginStep = 0
  /// Fixes in the order they were defined, which is the order their hooks run in.
  public var fixes: [(id: String, fix: Fix)] = []
  public var thermo = ThermoSettings()
  /// Style of each fix by ID, recorded in restarts so that a state goes back to the same kind of fix.
  var fixStyles: [String: String] = [:]
  var restarts = RestartSchedule()
  /// `--max-walltime`: the job stops cleanly, with a restart, once this many seconds have passed
  /// since `jobStart`.
  public var wallTimeLimit: Double?
  /// Worker threads per rank for Deep Potential evaluation when the deck's `pair_style deepmd`
  /// gives no `threads` keyword (`tessera run --threads N`); the deck's keyword wins, as a deck's
  /// `package` command wins over LAMMPS's `-pk`.
  public var modelThreads = 1
  public var jobStart = StepTimer.now()
  var currentTime: Double { timeOrigin + Double(step - timeOriginStep) * (timestep ?? units.defaultTimestep) }
  /// Fix states read from a restart, applied when the deck defines a fix with that ID and style.
  var pendingFixStates: [String: RestartFile.FixRecord] = [:]
  /// Per-atom fix states read from a restart (by fix ID, then atom id), applied with `pendingFixStates`.
  var pendingPerAtomStates: [String: [Int64: ArraySlice<Double>]] = [:]
  /// The pair style as the deck gave it, and the model file's checksum for a Deep Potential.
  var forceFieldDescription = ""
  var modelChecksum: String?
  /// The model checksum a restart recorded: a different model is refused.
  var expectedModelChecksum: String?
  /// The atoms came from a restart: the first run's setup puts them in canonical order.
  var restoredFromRestart = false
  var dumps: [Dump] = []
  /// IDs of `compute ID all pe/atom`, usable as `c_ID` in dumps.
  var energyComputes: Set<String> = []

  // Parallel machinery, created by the first run.
  let migration = AtomMigration()
  let halo = HaloExchange()
  var neighbors: NeighborList?
  var rebuildPolicy: RebuildPolicy?
  let timer = StepTimer()
  /// The last reduced thermodynamic state (for `print` and equal-style variables after a run).
  var lastThermo: ThermoState?

  public init(comm: Communicator, console: Console, validateOnly: Bool = false) {
    self.comm = comm
    self.console = console
    self.validateOnly = validateOnly
    variables.keywordValue = { [unowned self] name in self.keywordValue(name) }
  }

  /// The box, or a located error for commands that need one.
  func requireBox(_ command: Command) throws -> Box {
    guard let box else { throw command.error("the simulation box is not defined yet (create_box or read_data first)") }
    return box
  }

  /// Effective rebuild settings: the deck's, or the unit system's defaults (skin 0.3 σ / 2 Å).
  var effectiveRebuild: RebuildSettings {
    var settings = rebuild ?? RebuildSettings(skin: skin ?? units.defaultSkin)
    settings.skin = skin ?? units.defaultSkin
    return settings
  }
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
