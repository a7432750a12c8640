import Atoms
import DeepPotential
import Geometry
import Neighbors
import Output
import Potentials

/// `pair_style deepmd`: a DeePMD-kit model evaluated on one rank's owned atoms with their ghosts.
///
/// The model sees a full neighbour list (cutoff + skin, from which it selects its own `sel` nearest
/// per type) and returns forces on owned and ghost atoms; the halo's reverse communication folds the
/// ghost forces back to their owners, as LAMMPS does for DeePMD-kit's plugin.
public final class DeepPotentialForce: Potential {
  public let neighborKind = NeighborKind.full
  public let cutoff: Double
  public let model: DeepPotentialModel
  private let evaluator: ThreadedEvaluator
  /// Model type index for each LAMMPS type (index 0 unused).
  private let modelTypes: [Int32]
  private let overflowIsError: Bool
  private var types = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
  private var typeCapacity = 1
  private var energies: [Double] = []
  private var wantsPerAtom = false
  public private(set) var neighborOverflow = 0
  /// Further models whose deviation from this one is written every `out_freq` steps.
  public var ensemble: DeviationEnsemble?
  /// The step being computed (set by the run loop), for the ensemble's schedule.
  public var step = 0
  /// Whether the last compute evaluated the ensemble, whose row is then due after the reverse halo.
  public private(set) var deviationPending = false
  private var overflowAtomSteps = 0

  /// `cutoff`: the neighbour list's and ghosts' reach less the skin, at least the model's (an
  /// ensemble's largest cut-off).
  public init(model: DeepPotentialModel, modelTypes: [Int32], overflowIsError: Bool, precision: NetworkPrecision, threads: Int,
              cutoff: Double? = nil) {
    self.model = model
    self.modelTypes = modelTypes
    self.overflowIsError = overflowIsError
    self.cutoff = max(model.cutoff, cutoff ?? 0)
    evaluator = ThreadedEvaluator(model: model, precision: precision, threads: threads)
  }

  deinit { types.deallocate() }

  public var perAtomEnergy: [Double]? { wantsPerAtom ? energies : nil }

  public func compute(_ atoms: AtomStore, _ list: NeighborList, _ box: Box, _ request: ForceRequest,
               ghosts: GhostRows) throws -> EnergyVirial {
    let total = atoms.totalCount, owned = atoms.ownedCount
    if typeCapacity < total {
      types.deallocate()
      typeCapacity = atoms.capacity
      types = .allocate(capacity: typeCapacity)
    }
    for i in 0..<total { types[i] = modelTypes[Int(atoms.type[i])] }
    wantsPerAtom = request.contains(.perAtomEnergy)
    // An atom's energy belongs to it as a centre: ghosts get none.
    if wantsPerAtom && energies.count != total { energies = [Double](repeating: 0, count: total) }
    let deviationDue = ensemble.map { $0.isDue(step) } ?? false
    let sharing: SlotSharing = deviationDue && ensemble!.anySharesSlots ? .record(ensemble!.slotStore(ownedCount: owned)) : .none
    let started = StepTimer.now()
    let result = list.offsets.withUnsafeBufferPointer { offsets in
      list.neighbors.withUnsafeBufferPointer { neighbors in
        energies.withUnsafeMutableBufferPointer { e in
          evaluator.compute(positions: atoms.position, types: types, ownedCount: owned, totalCount: total,
                            neighborOffsets: offsets.baseAddress!, neighbors: neighbors.baseAddress!,
                            forces: atoms.force, atomEnergies: wantsPerAtom ? e.baseAddress : nil, sharing: sharing)
        }
      }
    }
    deviationPending = false
    if let ensemble, deviationDue {
      ensemble.drivingSeconds += StepTimer.now() - started
      list.offsets.withUnsafeBufferPointer { offsets in
        list.neighbors.withUnsafeBufferPointer { neighbors in
          ensemble.evaluate(positions: atoms.position, types: types, ownedCount: owned, totalCount: total,
                            offsets: offsets.baseAddress!, neighbors: neighbors.baseAddress!, ghosts: ghosts,
                            drivingVirial: result.virial.elements)
        }
      }
      deviationPending = true
    }
    neighborOverflow = result.overflowAtoms
    overflowAtomSteps += result.overflowAtoms
    if overflowIsError && result.overflowAtoms > 0 {
      throw PotentialError("\(result.overflowAtoms) atoms have more neighbours of one type within rcut "
        + "\(model.cutoff) than the model's sel \(model.selection) (pair_style deepmd … sel_overflow error)")
    }
    var ev = EnergyVirial()
    ev.energy = result.energy
    // DeePMD-kit's 3×3 virial (row-major) to LAMMPS's xx yy zz xy xz yz, as its LAMMPS plugin maps it.
    let v = result.virial
    ev.virial = [v[0], v[4], v[8], v[3], v[6], v[7]]
    return ev
  }

  public func runSummary(sumOverRanks: (Double) -> Double) -> [String] {
    let total = Int(sumOverRanks(Double(overflowAtomSteps)))
    let cost = ensemble?.costSummary(sumOverRanks: sumOverRanks).map { [$0] } ?? []
    guard total > 0 else { return ["Deep Potential: no atom had more neighbours than sel \(model.selection)"] + cost }
    return ["WARNING: Deep Potential: \(total) atom-steps had more neighbours within rcut than sel "
      + "\(model.selection); the farthest were dropped, as DeePMD-kit does (raise sel or use sel_overflow error)"] + cost
  }
}
