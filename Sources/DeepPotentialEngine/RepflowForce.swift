import Atoms
import DeepPotential
import Geometry
import Neighbors
import Output
import Potentials

/// `pair_style deepmd MODEL.dp` with a DPA-3 model: `RepflowEvaluator` on one rank's owned atoms
/// and ghosts, the node features forwarded to the ghosts through the force evaluation's halo
/// handle before every layer and their gradients reverse-summed after every layer's backward
/// pass, so that P ranks give one rank's result; ghost forces are folded back by the caller.
public final class RepflowForce: Potential {
  public let neighborKind = NeighborKind.full
  public let cutoff: Double
  public let model: RepflowModel
  private let evaluator: RepflowEvaluator
  /// Model type index for each LAMMPS type (index 0 unused).
  private let modelTypes: [Int32]
  private let overflowIsError: Bool
  private var types: [Int32] = []
  private var energies: [Double] = []
  private var wantsPerAtom = false
  public private(set) var neighborOverflow = 0
  private var overflowAtomSteps = 0
  /// Further models whose deviation from this one is written every `out_freq` steps (as
  /// `DeepPotentialForce.ensemble`), the step being computed, and whether this compute evaluated them.
  public var ensemble: DeviationEnsemble?
  public var step = 0
  public private(set) var deviationPending = false

  /// `cutoff`: the list's and ghosts' reach less the skin, at least e_rcut (an ensemble's largest).
  public init(model: RepflowModel, modelTypes: [Int32], overflowIsError: Bool, cutoff: Double? = nil) {
    self.model = model
    self.modelTypes = modelTypes
    self.overflowIsError = overflowIsError
    self.cutoff = max(model.cutoff, cutoff ?? 0)
    evaluator = RepflowEvaluator(model: model)
  }

  public var perAtomEnergy: [Double]? { wantsPerAtom ? energies : nil }

  public func compute(_ atoms: AtomStore, _ list: NeighborList, _ box: Box, _ request: ForceRequest,
                      ghosts: GhostRows) throws -> EnergyVirial {
    let total = atoms.totalCount, owned = atoms.ownedCount
    // At least one entry each: a rank holding no atoms still passes buffers (and joins the exchanges).
    if types.count < max(total, 1) { types = [Int32](repeating: 0, count: max(atoms.capacity, total, 1)) }
    for i in 0..<total { types[i] = modelTypes[Int(atoms.type[i])] }
    wantsPerAtom = request.contains(.perAtomEnergy)
    // An atom's energy belongs to it as a centre: ghosts get none.
    if energies.count != max(total, 1) { energies = [Double](repeating: 0, count: max(total, 1)) }
    let started = StepTimer.now()
    let result = list.offsets.withUnsafeBufferPointer { offsets in
      list.neighbors.withUnsafeBufferPointer { neighbors in
        energies.withUnsafeMutableBufferPointer { e in
          types.withUnsafeBufferPointer { t in
            evaluator.compute(positions: atoms.position, types: t.baseAddress!, ownedCount: owned, totalCount: total,
                              neighborOffsets: offsets.baseAddress!, neighbors: neighbors.baseAddress!, ghosts: ghosts,
                              atomEnergies: e.baseAddress!, forces: atoms.force)
          }
        }
      }
    }
    deviationPending = ensemble?.isDue(step) ?? false
    if let ensemble, deviationPending {
      ensemble.drivingSeconds += StepTimer.now() - started
      list.offsets.withUnsafeBufferPointer { offsets in
        list.neighbors.withUnsafeBufferPointer { neighbors in
          ensemble.evaluate(positions: atoms.position, types: types, ownedCount: owned, totalCount: total,
                            offsets: offsets.baseAddress!, neighbors: neighbors.baseAddress!, ghosts: ghosts,
                            drivingVirial: result.virial.elements)
        }
      }
    }
    neighborOverflow = result.overflowAtoms
    overflowAtomSteps += result.overflowAtoms
    // As DeepPotentialForce: after the evaluation (every rank has made its exchanges).
    if overflowIsError && result.overflowAtoms > 0 {
      throw PotentialError("\(result.overflowAtoms) atoms have more neighbours within rcut \(model.cutoff) than the "
        + "model's e_sel \(model.selection) (pair_style deepmd … sel_overflow error)")
    }
    var ev = EnergyVirial()
    ev.energy = result.energy
    // DeePMD-kit's 3×3 virial (row-major) to LAMMPS's xx yy zz xy xz yz.
    let v = result.virial
    ev.virial = [v[0], v[4], v[8], v[3], v[6], v[7]]
    return ev
  }

  public func runSummary(sumOverRanks: (Double) -> Double) -> [String] {
    let total = Int(sumOverRanks(Double(overflowAtomSteps)))
    let cost = ensemble?.costSummary(sumOverRanks: sumOverRanks).map { [$0] } ?? []
    guard total > 0 else { return ["Deep Potential (DPA-3): no atom had more neighbours than e_sel \(model.selection)"] + cost }
    return ["WARNING: Deep Potential (DPA-3): \(total) atom-steps had more neighbours within rcut than e_sel "
      + "\(model.selection); the farthest were dropped, as DeePMD-kit does (raise e_sel or use sel_overflow error)"] + cost
  }
}
