import Atoms
import DeepPotential
import Geometry
import Neighbors
import Output
import Potentials

/// A message-passing Deep Potential's evaluator as `MessagePassingForce` drives it: one rank's owned
/// atoms and ghosts with a full neighbour list, per-layer features forwarded to the ghosts and their
/// gradients reverse-summed through `ghosts` (collective).
public protocol MessagePassingEvaluator: AnyObject {
  /// The neighbour list's cut-off and the selection it is cut to.
  var listCutoff: Double { get }
  var listSelection: Int { get }
  /// "DPA-3", "DPA-2": for messages.
  var descriptorName: String { get }
  func compute(positions: UnsafePointer<Double>, types: UnsafePointer<Int32>, ownedCount: Int, totalCount: Int,
               neighborOffsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>, ghosts: GhostRows,
               atomEnergies: UnsafeMutablePointer<Double>, forces: UnsafeMutablePointer<Double>?,
               atomVirials: UnsafeMutablePointer<Double>?) -> DeepPotentialResult
}

extension RepflowEvaluator: MessagePassingEvaluator {
  public var listCutoff: Double { model.cutoff }
  public var listSelection: Int { model.selection }
  public var descriptorName: String { "DPA-3" }
}

extension RepformerEvaluator: MessagePassingEvaluator {
  public var listCutoff: Double { model.listCutoff }
  public var listSelection: Int { model.listSelection }
  public var descriptorName: String { "DPA-2" }
}

/// `pair_style deepmd MODEL.dp` with a message-passing model (DPA-3, DPA-2): its evaluator on one
/// rank's owned atoms and ghosts, the per-layer features forwarded to the ghosts through the force
/// evaluation's halo handle before every layer and their gradients reverse-summed after every
/// layer's backward pass, so that P ranks give one rank's result; ghost forces are folded back by
/// the caller.
public final class MessagePassingForce: Potential {
  public let neighborKind = NeighborKind.full
  public let cutoff: Double
  private let evaluator: MessagePassingEvaluator
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

  /// `cutoff`: the list's and ghosts' reach less the skin, at least the model's (an ensemble's largest).
  public init(evaluator: MessagePassingEvaluator, modelTypes: [Int32], overflowIsError: Bool, cutoff: Double? = nil) {
    self.evaluator = evaluator
    self.modelTypes = modelTypes
    self.overflowIsError = overflowIsError
    self.cutoff = max(evaluator.listCutoff, cutoff ?? 0)
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
                              atomEnergies: e.baseAddress!, forces: atoms.force, atomVirials: nil)
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
      throw PotentialError("\(result.overflowAtoms) atoms have more neighbours within rcut \(cutoff) than the "
        + "model's sel \(evaluator.listSelection) (pair_style deepmd … sel_overflow error)")
    }
    var ev = EnergyVirial()
    ev.energy = result.energy
    // DeePMD-kit's 3×3 virial (row-major) to LAMMPS's xx yy zz xy xz yz.
    let v = result.virial
    ev.virial = [v[0], v[4], v[8], v[3], v[6], v[7]]
    return ev
  }

  public func runSummary(sumOverRanks: (Double) -> Double) -> [String] {
    let total = Int(sumOverRanks(Double(overflowAtomSteps))), name = evaluator.descriptorName
    let sel = evaluator.listSelection
    let cost = ensemble?.costSummary(sumOverRanks: sumOverRanks).map { [$0] } ?? []
    guard total > 0 else { return ["Deep Potential (\(name)): no atom had more neighbours than sel \(sel)"] + cost }
    return ["WARNING: Deep Potential (\(name)): \(total) atom-steps had more neighbours within rcut than sel "
      + "\(sel); the farthest were dropped, as DeePMD-kit does (raise sel or use sel_overflow error)"] + cost
  }
}
