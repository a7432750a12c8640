import Atoms
import Geometry
import Neighbors

/// What a force evaluation must produce besides forces (LAMMPS `eflag`/`vflag`).
public struct ForceRequest: OptionSet, Sendable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }
  public static let energy = ForceRequest(rawValue: 1)
  public static let virial = ForceRequest(rawValue: 2)
  public static let perAtomEnergy = ForceRequest(rawValue: 4)
}

/// This rank's share of the potential energy and virial W = Σ r_ij ⊗ f_ij (6 components in LAMMPS
/// order xx yy zz xy xz yz, energy units). Summed over ranks they give the system's values.
public struct EnergyVirial: Sendable {
  public var energy: Double = 0
  /// xx yy zz xy xz yz (fixed size: a force evaluation allocates nothing).
  public var virial = InlineArray<6, Double>(repeating: 0)
  public init() {}
}

/// A force field. Adds forces on owned and ghost atoms into `atoms.force`; the caller folds ghost
/// forces back to their owners. `ghosts` exchanges per-atom rows with the ghost copies inside one
/// evaluation (EAM's F'(ρ), message-passing features); a potential that needs no exchange ignores it.
/// A potential that throws must do so before its first exchange or on every rank alike.
public protocol Potential: AnyObject {
  /// Interaction range; ghosts and neighbour lists extend it by the skin.
  var cutoff: Double { get }
  var neighborKind: NeighborKind { get }
  func compute(_ atoms: AtomStore, _ neighbors: NeighborList, _ box: Box, _ request: ForceRequest,
               ghosts: GhostRows) throws -> EnergyVirial
  /// Per-atom energies from the last compute with `.perAtomEnergy`, if supported: one per owned and
  /// ghost atom; the caller adds the ghosts' values into their owners (reverse communication).
  var perAtomEnergy: [Double]? { get }
  /// Owned atoms whose neighbourhood exceeded what the potential can hold at the last evaluation
  /// (a Deep Potential's `sel`); 0 for potentials without such a limit.
  var neighborOverflow: Int { get }
  /// Lines to print at the end of a run (warnings, counters); empty by default.
  func runSummary(sumOverRanks: (Double) -> Double) -> [String]
}

extension Potential {
  public var perAtomEnergy: [Double]? { nil }
  public var neighborOverflow: Int { 0 }
  public func runSummary(sumOverRanks: (Double) -> Double) -> [String] { [] }
}

/// A located problem in a potential's setup or evaluation.
public struct PotentialError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
