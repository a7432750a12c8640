import Dispatch

/// A rank's model evaluation spread over threads (`pair_style deepmd … threads N`): the owned
/// atoms are cut into N contiguous ranges of centres, each evaluated by its own
/// `DeepPotentialEvaluator` (buffers are per evaluator; OpenBLAS stays at one thread, so each
/// worker's products run on its own core). A centre's forces reach its neighbours, which other
/// threads' centres share, so each thread but the first adds into its own force array, and those
/// are added to the rank's forces in thread order: a run is reproducible for a given thread count
/// and equals the unthreaded one to round-off.
public final class ThreadedEvaluator {
  public let evaluators: [DeepPotentialEvaluator]
  private var forceBuffers: [UnsafeMutablePointer<Double>] = []
  private var bufferCapacity = 0
  /// Each thread's result, kept between steps.
  private let results: UnsafeMutablePointer<DeepPotentialResult>

  public init(model: DeepPotentialModel, precision: NetworkPrecision = .float64, threads: Int) {
    evaluators = (0..<max(threads, 1)).map { _ in DeepPotentialEvaluator(model: model, precision: precision) }
    results = .allocate(capacity: evaluators.count)
    results.initialize(repeating: DeepPotentialResult(), count: evaluators.count)
  }

  deinit {
    for buffer in forceBuffers { buffer.deallocate() }
    results.deinitialize(count: evaluators.count).deallocate()
  }

  /// As `DeepPotentialEvaluator.compute`, without per-atom virials.
  public func compute(positions: UnsafePointer<Double>, types: UnsafePointer<Int32>, ownedCount: Int,
                      totalCount: Int, neighborOffsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>,
                      forces: UnsafeMutablePointer<Double>,
                      atomEnergies: UnsafeMutablePointer<Double>? = nil,
                      sharing: SlotSharing = .none) -> DeepPotentialResult {
    let n = evaluators.count
    if n == 1 {
      return evaluators[0].compute(positions: positions, types: types, ownedCount: ownedCount, totalCount: totalCount,
                                   neighborOffsets: neighborOffsets, neighbors: neighbors, forces: forces,
                                   atomEnergies: atomEnergies, sharing: sharing)
    }
    reserveForceBuffers(3 * totalCount, count: n - 1)
    let job = ThreadJob(evaluators: evaluators, forceBuffers: forceBuffers, results: results, positions: positions,
                        types: types, ownedCount: ownedCount, totalCount: totalCount, neighborOffsets: neighborOffsets,
                        neighbors: neighbors, forces: forces, atomEnergies: atomEnergies, sharing: sharing)
    DispatchQueue.concurrentPerform(iterations: n) { job.run($0) }
    var total = results[0]
    for k in 1..<n {
      let buffer = forceBuffers[k - 1]
      for at in 0..<(3 * totalCount) { forces[at] += buffer[at] }
      total.energy += results[k].energy
      for c in 0..<9 { total.virial[c] += results[k].virial[c] }
      total.overflowAtoms += results[k].overflowAtoms
    }
    return total
  }

  private func reserveForceBuffers(_ size: Int, count: Int) {
    if size <= bufferCapacity && forceBuffers.count == count { return }
    for buffer in forceBuffers { buffer.deallocate() }
    bufferCapacity = max(size, 2 * bufferCapacity)
    forceBuffers = (0..<count).map { _ in .allocate(capacity: bufferCapacity) }
  }
}

/// One evaluation's shared inputs for the worker threads. Unchecked: each thread writes only its own
/// result, its own force array (the first: the rank's) and the energies and slot rows of its own centres.
private struct ThreadJob: @unchecked Sendable {
  let evaluators: [DeepPotentialEvaluator]
  let forceBuffers: [UnsafeMutablePointer<Double>]
  let results: UnsafeMutablePointer<DeepPotentialResult>
  let positions: UnsafePointer<Double>
  let types: UnsafePointer<Int32>
  let ownedCount, totalCount: Int
  let neighborOffsets, neighbors: UnsafePointer<Int32>
  let forces: UnsafeMutablePointer<Double>
  let atomEnergies: UnsafeMutablePointer<Double>?
  /// Slot rows are per centre, so threads record or reuse disjoint rows.
  let sharing: SlotSharing

  func run(_ k: Int) {
    let n = evaluators.count
    let target = k == 0 ? forces : forceBuffers[k - 1]
    if k > 0 { target.update(repeating: 0, count: 3 * totalCount) }
    results[k] = evaluators[k].compute(
      positions: positions, types: types, ownedCount: ownedCount, totalCount: totalCount,
      neighborOffsets: neighborOffsets, neighbors: neighbors, forces: target, atomEnergies: atomEnergies,
      centres: (ownedCount * k / n)..<(ownedCount * (k + 1) / n), sharing: sharing)
  }
}
