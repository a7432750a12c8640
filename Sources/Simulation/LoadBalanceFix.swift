import Communication
import Decomposition
import Dynamics
import Geometry

/// `fix ID all balance Nfreq thresh shift dimstr Niter stopthresh` (LAMMPS `FixBalance`): on
/// rebuild steps — every `every` steps, which it forces to be rebuild steps, or on every rebuild when
/// `every` is 0 — and at the setup of each run, the cuts are shifted when the imbalance factor
/// exceeds `threshold`, before atoms migrate (its migration hooks). Thermo reads `f_ID` (the imbalance factor after the last rebalance) and `f_ID[1]`
/// (the most atoms on a rank when last checked), `f_ID[2]` (iterations of the last rebalance),
/// `f_ID[3]` (the factor before it), as LAMMPS.
final class LoadBalanceFix: Fix {
  let every: Int
  let threshold: Double
  let balancer: ShiftBalancer
  /// The step it last looked at (never twice on one step) and the next step it must act on.
  private var lastLook = -1
  private(set) var nextForcedRebuild = -1
  /// A rebalance has moved the cuts; the factor after it is measured once atoms have migrated.
  private var pending = false
  private(set) var finalImbalance = 0.0
  private(set) var previousImbalance = 0.0
  private(set) var mostLoad = 0.0
  private(set) var iterations = 0
  private var currentImbalance = 0.0

  init(every: Int, threshold: Double, balancer: ShiftBalancer) {
    self.every = every
    self.threshold = threshold
    self.balancer = balancer
  }

  /// LAMMPS's `compute_scalar` and `compute_vector` for `f_ID` and `f_ID[1…3]`.
  func output(_ index: Int?) -> Double? {
    switch index {
    case nil: return finalImbalance
    case 1: return mostLoad
    case 2: return Double(iterations)
    case 3: return previousImbalance
    default: return nil
    }
  }

  /// Whether step `step` must rebuild for this fix (LAMMPS `next_reneighbor`).
  func forcesRebuild(at step: Int) -> Bool { every > 0 && step == nextForcedRebuild }

  /// Before atoms migrate: rebalances the grid if due and the imbalance exceeds the threshold. The
  /// run's setup always looks (LAMMPS `setup_pre_exchange`).
  func beforeMigration(_ context: FixContext, _ plan: inout MigrationPlan) throws {
    let step = context.step
    if !plan.isSetup && every > 0 && step < nextForcedRebuild { return }
    if step == lastLook { return }
    lastLook = step
    (currentImbalance, mostLoad) = imbalanceFactor(ownedCount: context.atoms.ownedCount, comm: context.comm)
    if currentImbalance > threshold {
      previousImbalance = currentImbalance
      iterations = try balancer.balance(&plan.grid, fractions: plan.fractions(), skin: plan.skin,
                                        lengths: context.boxState.box.length, comm: context.comm)
      pending = true
    }
    if every > 0 { nextForcedRebuild = (step / every) * every + every }
  }

  /// After atoms migrated: the factor the last rebalance achieved (LAMMPS `pre_neighbor`).
  func afterMigration(_ context: FixContext) {
    guard pending else { return }
    (finalImbalance, mostLoad) = imbalanceFactor(ownedCount: context.atoms.ownedCount, comm: context.comm)
    pending = false
  }
}

/// Atoms per rank: the largest count over the mean (1 when there are none), and the largest count.
func imbalanceFactor(ownedCount: Int, comm: Communicator) -> (factor: Double, most: Double) {
  let most = comm.allReduce(Double(ownedCount), .max), total = comm.allReduce(Double(ownedCount), .sum)
  return (most > 0 ? most / (total / Double(comm.size)) : 1, most)
}
