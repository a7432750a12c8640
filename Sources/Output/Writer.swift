import Atoms
import Communication
import Geometry

/// What a writer needs the force evaluation of a step it writes to compute besides forces.
public struct WriterNeeds: OptionSet, Sendable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }
  /// Each owned atom's potential energy, its ghosts' shares folded in (`c_ID` of pe/atom, extended XYZ).
  public static let perAtomEnergy = WriterNeeds(rawValue: 1)
}

/// This rank's share of a step's force evaluation, as writers read it.
public struct ForceEvaluation {
  public var energy: Double
  /// Σ r⊗f over this rank, xx yy zz xy xz yz.
  public var virial: InlineArray<6, Double>
  /// One per owned atom, when a writer due at this step asked for them (`WriterNeeds.perAtomEnergy`).
  public var perAtomEnergies: [Double]?

  public init(energy: Double, virial: InlineArray<6, Double>, perAtomEnergies: [Double]?) {
    self.energy = energy
    self.virial = virial
    self.perAtomEnergies = perAtomEnergies
  }
}

/// Everything a writer may read at the end of a step (LAMMPS's Output phase): the clock, the box, this
/// rank's atoms with their forces, and the force evaluation's energy and virial.
public struct OutputStep {
  public var step: Int
  public var time: Double
  public var box: Box
  public let atoms: AtomStore
  public let masses: Masses
  public let comm: Communicator
  public var forces: ForceEvaluation

  public init(step: Int, time: Double, box: Box, atoms: AtomStore, masses: Masses, comm: Communicator,
              forces: ForceEvaluation) {
    self.step = step
    self.time = time
    self.box = box
    self.atoms = atoms
    self.masses = masses
    self.comm = comm
    self.forces = forces
  }

  /// This rank's owned atoms in the packed form that is gathered into `GatheredAtoms`, with the
  /// per-atom energies when this step computed them.
  public func packedOwnedAtoms() -> [Double] {
    GatheredAtoms.packOwned(atoms, masses: masses, energies: forces.perAtomEnergies)
  }
}

/// One output of a run — thermo, a dump, restart files, the model-deviation file — called in the
/// Output phase of every step it is due at (and at a run's setup), after the fixes' end of step.
/// Every rank calls every hook alike (a write is collective: gathers, the failure check); a failure
/// is thrown on every rank.
public protocol Writer: AnyObject {
  /// Whether it writes at `step` (asked before the step's force evaluation, which computes its `needs`);
  /// `isSetup`: the step of a run's setup, where thermo always writes and restarts never do.
  func isDue(at step: Int, isSetup: Bool) -> Bool
  var needs: WriterNeeds { get }
  func write(_ output: OutputStep) throws
  /// Closes what stays open between writes (an h5md file, collectively); the job calls it before MPI ends.
  func finish()
}

extension Writer {
  public var needs: WriterNeeds { [] }
  public func finish() {}
}
