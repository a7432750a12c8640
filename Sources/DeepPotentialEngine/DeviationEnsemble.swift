import Atoms
import Communication
import DeepPotential
import Decomposition
import Geometry
import Foundation
import Output

/// The further models of `pair_style deepmd M1 M2 … out_freq N out_file FILE`: on steps that are a
/// multiple of N, each is evaluated on the neighbour list and ghosts the driving model used, and one
/// row of DeePMD-kit's plugin's statistics goes to FILE. The list and the ghosts reach the largest
/// model cut-off plus skin; each model selects within its own. The further models run with the
/// driving model's threads, tables when it was tabulated at load, and its precision unless
/// `devi_precision` sets theirs; DPA-3 and DPA-2 ones (teachers, usually) in float64 on one thread,
/// their per-atom features exchanged with the ghosts after every layer.
public final class DeviationEnsemble {
  /// A further model's evaluator: a standard one (sharing the driving model's neighbour slots when
  /// it selects alike) or a message-passing one (DPA-3, DPA-2).
  private enum Member {
    case standard(ThreadedEvaluator, sharesSlots: Bool)
    case messagePassing(MessagePassingEvaluator)
  }
  private let members: [Member]
  let every: Int
  public let options: DeviationOptions
  /// The statistics of the last due step, (step, values), until the deviation file's writer takes them.
  public var pendingRow: (step: Int, values: [Double])?
  /// Forces of each further model on owned and ghost atoms, packed [n][3].
  private var forces: [UnsafeMutablePointer<Double>]
  private var capacity = 0
  /// This rank's virial of every model (the driving one first), 9 components each.
  var virials: [[Double]] = []
  private var deviation = UnsafeMutablePointer<Double>.allocate(capacity: 1)
  /// The message-passing members' per-atom energies (not used by the statistics).
  private var energies = UnsafeMutablePointer<Double>.allocate(capacity: 1)
  /// The driving model's neighbour slots, for the further models that select alike.
  private var slots = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
  private var slotCapacity = 0
  private let slotCount: Int
  /// Wall time of the deviation steps, for `costSummary`: the driving model's evaluations (its
  /// neighbour selection included; added by the driving force), the further models' and the
  /// statistics' (reverse communication, reductions, the row).
  var drivingSeconds = 0.0
  private var modelSeconds = 0.0
  private var statisticsSeconds = 0.0
  private var evaluations = 0

  /// `driving` is the driving model when it is a standard one (nil for DPA-3 and DPA-2: nothing shares its slots).
  public init(driving: DeepPotentialModel?, models: [DeviationModel], every: Int, options: DeviationOptions,
              precision: NetworkPrecision, threads: Int) {
    members = models.map {
      switch $0 {
      case .standard(let m):
        return .standard(ThreadedEvaluator(model: m, precision: precision, threads: threads),
                         sharesSlots: driving.map(m.selectsLike) ?? false)
      case .repflow(let m): return .messagePassing(RepflowEvaluator(model: m))
      case .repformer(let m): return .messagePassing(RepformerEvaluator(model: m))
      }
    }
    slotCount = driving?.slotCount ?? 0
    self.every = every
    self.options = options
    forces = models.map { _ in .allocate(capacity: 1) }
  }

  deinit {
    forces.forEach { $0.deallocate() }
    deviation.deallocate()
    energies.deallocate()
    slots.deallocate()
  }

  var anySharesSlots: Bool {
    members.contains { if case .standard(_, true) = $0 { return true } else { return false } }
  }

  /// Where the driving model records its slots for the further models on a due step.
  func slotStore(ownedCount: Int) -> UnsafeMutablePointer<Int32> {
    if slotCapacity < ownedCount {
      slots.deallocate()
      slotCapacity = ownedCount
      slots = .allocate(capacity: ownedCount * slotCount)
    }
    return slots
  }

  public func isDue(_ step: Int) -> Bool { step % every == 0 }

  /// Evaluates every further model on the same atoms, list and ghosts as the driving one (whose
  /// virial is `drivingVirial`). Collective when a DPA-3 or DPA-2 model is among them: every rank calls it on
  /// the same steps.
  func evaluate(positions: UnsafePointer<Double>, types: UnsafePointer<Int32>, ownedCount: Int, totalCount: Int,
                offsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>, ghosts: GhostRows,
                drivingVirial: [Double]) {
    if capacity < max(totalCount, 1) {
      forces.forEach { $0.deallocate() }
      deviation.deallocate()
      energies.deallocate()
      capacity = max(totalCount, 1)
      forces = members.map { _ in .allocate(capacity: 3 * capacity) }
      deviation = .allocate(capacity: capacity)
      energies = .allocate(capacity: capacity)
    }
    let started = StepTimer.now()
    defer {
      modelSeconds += StepTimer.now() - started
      evaluations += 1
    }
    virials = [drivingVirial]
    for (member, f) in zip(members, forces) {
      f.update(repeating: 0, count: 3 * totalCount)
      let result: DeepPotentialResult
      switch member {
      case .standard(let evaluator, let shares):
        result = evaluator.compute(positions: positions, types: types, ownedCount: ownedCount, totalCount: totalCount,
                                   neighborOffsets: offsets, neighbors: neighbors, forces: f,
                                   sharing: shares ? .reuse(slots) : .none)
      case .messagePassing(let evaluator):
        result = evaluator.compute(positions: positions, types: types, ownedCount: ownedCount, totalCount: totalCount,
                                   neighborOffsets: offsets, neighbors: neighbors, ghosts: ghosts,
                                   atomEnergies: energies, forces: f, atomVirials: nil)
      }
      virials.append(result.virial.elements)
    }
  }

  /// After the driving model's ghost forces were folded back (`atoms.force`), before any fix changes
  /// them: folds the further models' ghost forces and reduces the statistics over ranks into
  /// `pendingRow` (the per-atom deviations on rank 0 only).
  public func record(step: Int, atoms: AtomStore, halo: HaloExchange, comm: Communicator) {
    let started = StepTimer.now()
    defer { statisticsSeconds += StepTimer.now() - started }
    let owned = atoms.ownedCount
    for f in forces { halo.reverse(f, width: 3, comm: comm) }
    ModelDeviation.forces([UnsafePointer(atoms.force)] + forces.map { UnsafePointer($0) }, count: owned,
                          relative: options.relative, into: deviation)
    // max, −min, Σ over this rank's atoms; then the models' virials and the atom count.
    var sums = [Double](repeating: 0, count: 1 + 9 * virials.count)
    var extremes = [0.0, -Double.greatestFiniteMagnitude]
    for i in 0..<owned {
      extremes[0] = max(extremes[0], deviation[i])
      extremes[1] = max(extremes[1], -deviation[i])
    }
    sums[0] = Double(owned)
    var total = 0.0
    for i in 0..<owned { total += deviation[i] }
    sums.append(total)
    for (m, v) in virials.enumerated() { for c in 0..<9 { sums[1 + 9 * m + c] = v[c] } }
    comm.allReduce(&sums, .sum)
    comm.allReduce(&extremes, .max)
    let atomCount = sums[0]
    let perAtomVirials = virials.indices.map { m in (0..<9).map { sums[1 + 9 * m + $0] / atomCount } }
    let virial = ModelDeviation.virial(perAtomVirials, relative: options.relativeVirial, scaling: .perComponent)
    var perAtom: [Double] = []
    if options.atomic {
      var pairs = [Double]()
      pairs.reserveCapacity(2 * owned)
      for i in 0..<owned {
        pairs.append(Double(atoms.tag[i]))
        pairs.append(deviation[i])
      }
      let gathered = comm.gather(pairs, root: 0)
      if comm.rank == 0 {
        // In id order, as DeePMD-kit writes them; ids may have gaps (deleted atoms), so sort rather
        // than index by id.
        let order = stride(from: 0, to: gathered.count, by: 2).sorted { gathered[$0] < gathered[$1] }
        perAtom = order.map { gathered[$0 + 1] }
      }
    }
    pendingRow = (step, [virial.max, virial.min, virial.avg, extremes[0], -extremes[1], sums[sums.count - 1] / atomCount]
      + perAtom)
  }
}

extension DeviationEnsemble {
  /// Where a deviation step's time went, per evaluation and averaged over ranks: what the further
  /// models cost each (M of the ensemble benchmark) against the driving model.
  func costSummary(sumOverRanks: (Double) -> Double) -> String? {
    guard evaluations > 0 else { return nil }
    let ranks = sumOverRanks(1)
    func perEvaluation(_ seconds: Double) -> String {
      String(format: "%.4f", sumOverRanks(seconds) / ranks / Double(evaluations))
    }
    return "Model deviation: \(evaluations) evaluations; per evaluation (s, mean over ranks): driving model "
      + "\(perEvaluation(drivingSeconds)) (neighbour selection included), further models \(perEvaluation(modelSeconds / Double(members.count))) "
      + "each, statistics \(perEvaluation(statisticsSeconds))"
  }
}
