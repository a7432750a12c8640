import Atoms
import Geometry

/// When to rebuild neighbour lists: LAMMPS `neigh_modify every N delay M check yes|no`.
public struct RebuildSettings: Sendable, Equatable {
  public var every = 1
  public var delay = 0
  public var check = true
  public var skin: Double
  public init(skin: Double) { self.skin = skin }
}

/// Decides rebuilds (LAMMPS `Neighbor::decide` / `check_distance`) and keeps the statistics LAMMPS
/// prints at the end of a run.
public final class RebuildPolicy {
  public var settings: RebuildSettings
  public private(set) var stepsSinceBuild = 0
  public private(set) var builds = 0
  public private(set) var dangerousBuilds = 0
  private var referencePositions: [Double] = []
  /// Corners of the box the list was built in (LAMMPS `corners_hold`).
  private var referenceCorners = InlineArray<8, SIMD3<Double>>(repeating: .zero)

  public init(settings: RebuildSettings) { self.settings = settings }

  /// Records the positions and the box a list was built from.
  public func didBuild(_ atoms: AtomStore, box: Box, countsAsBuild: Bool = true) {
    referencePositions = Array(UnsafeBufferPointer(start: atoms.position, count: 3 * atoms.ownedCount))
    referenceCorners = box.corners
    stepsSinceBuild = 0
    if countsAsBuild { builds += 1 }
  }

  public func resetStatistics() {
    builds = 0
    dangerousBuilds = 0
  }

  /// Called once per step after positions moved, with the current box. `anyRankMoved` reduces "some
  /// atom moved more than the trigger distance" over all ranks (a rebuild must be collective).
  public func shouldRebuild(_ atoms: AtomStore, box: Box, anyRankMoved: (Bool) -> Bool) -> Bool {
    stepsSinceBuild += 1
    guard stepsSinceBuild >= settings.delay, stepsSinceBuild % settings.every == 0 else { return false }
    if !settings.check { return true }
    let moved = anyRankMoved(movedBeyondTrigger(atoms, box: box))
    // The first step at which a check is allowed already needs a rebuild: an atom may have crossed
    // the skin unseen (LAMMPS counts such builds as dangerous).
    if moved && stepsSinceBuild == max(settings.delay, settings.every) { dangerousBuilds += 1 }
    return moved
  }

  /// Half the skin, less what a changing box has used of it (LAMMPS `Neighbor::check_distance` with
  /// `boxcheck`): the two largest corner displacements since the build are taken off the skin, since
  /// the dilation moves atoms and their periodic images apart or together on top of their own motion.
  /// In a box that has not changed this is exactly half the skin.
  private func triggerDistance(_ box: Box) -> Double {
    let corners = box.corners
    func moved(_ k: Int) -> Double {
      let d = corners[k] - referenceCorners[k]
      return (d * d).sum().squareRoot()
    }
    var used = 0.0
    if box.isTriclinic {
      // LAMMPS's own (not strictly second-largest) bookkeeping, kept for identical rebuild steps.
      var largest = 0.0, second = 0.0
      for k in 0..<8 {
        let distance = moved(k)
        if distance > largest { largest = distance } else if distance > second { second = distance }
      }
      used = largest + second
    } else {
      used = moved(0) + moved(7)  // the lo and hi corners
    }
    return max(0, 0.5 * (settings.skin - used))
  }

  private func movedBeyondTrigger(_ atoms: AtomStore, box: Box) -> Bool {
    let trigger = triggerDistance(box)
    let limit = trigger * trigger
    let x = atoms.position
    for i in 0..<min(atoms.ownedCount, referencePositions.count / 3) {
      let dx = x[3 * i] - referencePositions[3 * i]
      let dy = x[3 * i + 1] - referencePositions[3 * i + 1]
      let dz = x[3 * i + 2] - referencePositions[3 * i + 2]
      if dx * dx + dy * dy + dz * dz > limit { return true }
    }
    return false
  }
}
