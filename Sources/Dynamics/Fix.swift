import Atoms
import Communication
import Decomposition
import Geometry

/// The system's box, one copy shared by the commands, the run loop and the fixes: a barostat changes
/// `box` during initial integration, and ghosts, lists, thermo and output read the change from here.
public final class BoxState {
  public var box: Box

  public init(box: Box) { self.box = box }
}

/// What a fix sees at each of its hooks: this rank's atoms, the box and the run's clock.
public struct FixContext {
  public let atoms: AtomStore
  public let boxState: BoxState
  public let masses: Masses
  public let units: UnitSystem
  public let comm: Communicator
  public var timestep: Double
  /// The current step (already advanced during a step's hooks, as LAMMPS's `update->ntimestep`).
  public var step: Int
  /// First and last step of the current run, for targets ramped over a run (LAMMPS beginstep/endstep).
  public var runStart: Int
  public var runEnd: Int
  /// Atoms in the whole system.
  public var atomCount: Int
  /// This rank's virial Σ r⊗f of the last force evaluation (xx yy zz xy xz yz); sum over ranks to use.
  public var localVirial = InlineArray<6, Double>(repeating: 0)

  public init(atoms: AtomStore, boxState: BoxState, masses: Masses, units: UnitSystem, comm: Communicator,
              timestep: Double, step: Int, runStart: Int, runEnd: Int, atomCount: Int) {
    self.atoms = atoms
    self.boxState = boxState
    self.masses = masses
    self.units = units
    self.comm = comm
    self.timestep = timestep
    self.step = step
    self.runStart = runStart
    self.runEnd = runEnd
    self.atomCount = atomCount
  }

  /// Fraction of the run done at the current step: what `Tstart → Tstop` ramps follow.
  public var runFraction: Double {
    runEnd == runStart ? 0 : Double(step - runStart) / Double(runEnd - runStart)
  }

  /// Degrees of freedom of the temperature (3N − 3, as LAMMPS's default compute temp).
  public var degreesOfFreedom: Double { Dynamics.degreesOfFreedom(atomCount: atomCount) }

  /// Σ m v² · mvv2e over all ranks: twice the kinetic energy.
  public func twiceKineticEnergy() -> Double {
    var sum = 0.0
    let v = atoms.velocity
    for i in 0..<atoms.ownedCount {
      sum += masses[atoms.type[i]] * (v[3 * i] * v[3 * i] + v[3 * i + 1] * v[3 * i + 1] + v[3 * i + 2] * v[3 * i + 2])
    }
    return comm.allReduce(sum * units.mvv2e, .sum)
  }

  /// The temperature of the default compute: 2 KE / (dof · kB).
  public func temperature() -> Double {
    let dof = degreesOfFreedom
    return dof > 0 ? twiceKineticEnergy() / (dof * units.boltzmann) : 0
  }

  /// Multiplies every owned atom's velocity by `factor`.
  public func scaleVelocities(_ factor: Double) {
    let v = atoms.velocity
    for k in 0..<(3 * atoms.ownedCount) { v[k] *= factor }
  }
}

/// Where atoms are about to move to their owners at a rebuild: the processor grid a fix may re-cut.
public struct MigrationPlan {
  public var grid: ProcessorGrid
  /// The run's setup (LAMMPS `setup_pre_exchange`) rather than a rebuild inside the run.
  public let isSetup: Bool
  public let skin: Double
  /// Owned atoms' fractional coordinates, wrapped along periodic dimensions (computed when asked).
  public let fractions: () -> [SIMD3<Double>]

  public init(grid: ProcessorGrid, isSetup: Bool, skin: Double, fractions: @escaping () -> [SIMD3<Double>]) {
    self.grid = grid
    self.isSetup = isSetup
    self.skin = skin
    self.fractions = fractions
  }
}

/// A LAMMPS-style fix: hooks called at fixed points of the timestep, in the order the fixes were
/// defined — setup before the first step of a run; then every step initial integration (first
/// half-kick and drift); on steps that rebuild the neighbour lists pre-exchange (before atoms are
/// wrapped and migrated: a barostat flips a skewed box there), before migration (atoms wrapped: a
/// load balancer re-cuts the grid; also at each run's setup) and after migration; post-force (after
/// forces, before the second half), final integration (second half-kick), end of step. A hook that
/// throws stops the run on every rank; it may throw only what every rank sees alike (the box, global
/// sums).
public protocol Fix: AnyObject {
  func setup(_ context: FixContext)
  func initialIntegrate(_ context: FixContext) throws
  /// Whether `step` must rebuild the neighbour lists for this fix, whatever the rebuild policy says
  /// (LAMMPS `next_reneighbor`).
  func forcesRebuild(at step: Int) -> Bool
  func preExchange(_ context: FixContext)
  func beforeMigration(_ context: FixContext, _ plan: inout MigrationPlan) throws
  func afterMigration(_ context: FixContext)
  func postForce(_ context: FixContext)
  func finalIntegrate(_ context: FixContext)
  func endOfStep(_ context: FixContext)
  /// Energy the fix has exchanged with a reservoir (thermostat), the same on every rank: its share
  /// of the thermo keyword `ecouple`.
  var coupledEnergy: Double { get }
  /// What a restart file keeps of the fix (thermostat variables, random stream) so that a continued
  /// run goes on exactly; `restore` takes it back when the deck redefines the fix with the same ID.
  var restartState: [Double] { get }
  func restore(_ state: [Double]) throws
  /// Numbers per atom a restart keeps for this fix (0 for none) and those of owned atom `i`, in the
  /// atom order of the last force evaluation; `restorePerAtom` takes them back by atom id.
  var restartValuesPerAtom: Int { get }
  func appendRestartValues(ofOwned i: Int, to values: inout [Double])
  func restorePerAtom(_ values: [Int64: ArraySlice<Double>]) throws
  /// The thermo keyword `f_ID` (`index` nil) or `f_ID[index]`: nil when the fix has no such output.
  func output(_ index: Int?) -> Double?
}

/// A fix stopped the run (every rank throws it alike).
public struct FixError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// A restart holds a fix state this fix cannot take.
public struct FixStateError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

extension Fix {
  public func setup(_ context: FixContext) {}
  public func initialIntegrate(_ context: FixContext) {}
  public func forcesRebuild(at step: Int) -> Bool { false }
  public func preExchange(_ context: FixContext) {}
  public func beforeMigration(_ context: FixContext, _ plan: inout MigrationPlan) throws {}
  public func afterMigration(_ context: FixContext) {}
  public func postForce(_ context: FixContext) {}
  public func finalIntegrate(_ context: FixContext) {}
  public func endOfStep(_ context: FixContext) {}
  public var coupledEnergy: Double { 0 }
  public var restartState: [Double] { [] }
  public func restore(_ state: [Double]) throws {
    guard state.isEmpty else { throw FixStateError("unexpected state of \(state.count) numbers") }
  }
  public var restartValuesPerAtom: Int { 0 }
  public func appendRestartValues(ofOwned i: Int, to values: inout [Double]) {}
  public func restorePerAtom(_ values: [Int64: ArraySlice<Double>]) throws {
    guard values.isEmpty else { throw FixStateError("unexpected per-atom state") }
  }
  public func output(_ index: Int?) -> Double? { nil }
}
