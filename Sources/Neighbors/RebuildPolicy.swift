import Atoms

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
  private var lastBuildStep = 0

  public init(settings: RebuildSettings) { self.settings = settings }

  /// Records the positions a list was built from.
  public func didBuild(_ atoms: AtomStore, countsAsBuild: Bool = true) {
    referencePositions = Array(UnsafeBufferPointer(start: atoms.position, count: 3 * atoms.ownedCount))
    stepsSinceBuild = 0
    if countsAsBuild { builds += 1 }
  }

  public func resetStatistics() {
    builds = 0
    dangerousBuilds = 0
  }

  /// Called once per step after positions moved. `anyRankMoved` reduces "some atom moved more than
  /// half the skin" over all ranks (a rebuild must be collective).
  public func shouldRebuild(_ atoms: AtomStore, anyRankMoved: (Bool) -> Bool) -> Bool {
    stepsSinceBuild += 1
    guard stepsSinceBuild >= settings.delay, stepsSinceBuild % settings.every == 0 else { return false }
    if !settings.check { return true }
    let moved = anyRankMoved(movedBeyondHalfSkin(atoms))
    // The first step at which a check is allowed already needs a rebuild: an atom may have crossed
    // the skin unseen (LAMMPS counts such builds as dangerous).
    if moved && stepsSinceBuild == max(settings.delay, settings.every) { dangerousBuilds += 1 }
    return moved
  }

  private func movedBeyondHalfSkin(_ atoms: AtomStore) -> Bool {
    let limit = 0.25 * settings.skin * settings.skin
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
