import Atoms
import Geometry

/// Which pairs a list holds.
public enum NeighborKind: Sendable {
  /// Every pair once across all ranks (Newton's third law on), as LAMMPS's `half/bin/newton`: all
  /// pairs with j in one of the "upper" neighbouring bins of i's bin; within i's own bin, owned j
  /// with j > i and ghost j whose displacement from i is "upward" (z, then y, then x larger). The
  /// bin offset and the displacement of the mirrored copy on another rank are the negations, so
  /// exactly one rank keeps each pair, also between an atom and its own periodic images.
  case half
  /// All neighbours of every owned atom, ghosts included (many-body potentials).
  case full
}

/// Neighbours of owned atoms in compressed-row form: `neighbors[offsets[i]..<offsets[i+1]]` are
/// local indices (owned or ghost) within `cutoff` of atom i, r ≤ cutoff as LAMMPS's neighbour lists
/// (`rsq <= cutneighsq`) and DeePMD-kit's `build_neighbor_list` keep them (each potential then applies
/// its own cut-off rule), built from cell bins over owned and ghost atoms.
public final class NeighborList {
  public let kind: NeighborKind
  public private(set) var cutoff: Double
  public private(set) var offsets: [Int32] = [0]
  public private(set) var neighbors: [Int32] = []
  private let bins = CellBins()

  public init(kind: NeighborKind, cutoff: Double) {
    self.kind = kind
    self.cutoff = cutoff
  }

  public var ownedCount: Int { offsets.count - 1 }
  public var pairCount: Int { neighbors.count }

  /// Rebuilds the list for the atoms' current positions. Ghosts must cover `cutoff` around the brick.
  public func build(_ atoms: AtomStore, box: Box) {
    bins.assign(atoms, box: box, cutoff: cutoff)
    offsets.removeAll(keepingCapacity: true)
    neighbors.removeAll(keepingCapacity: true)
    offsets.reserveCapacity(atoms.ownedCount + 1)
    // A list that outgrows its buffer while filling holds the old and the doubled new one at once:
    // at a million atoms that is the run's peak memory. So the first build counts before it fills,
    // and keeps a tenth more room for the builds to come.
    if neighbors.capacity == 0 {
      var pairs = 0
      visitPairs(atoms, pair: { _ in pairs += 1 }, atomDone: {})
      neighbors.reserveCapacity(pairs + pairs / 10)
    }
    offsets.append(0)
    visitPairs(atoms, pair: { neighbors.append($0) }, atomDone: { offsets.append(Int32(neighbors.count)) })
  }

  /// Calls `pair` with every neighbour of each owned atom in turn, then `atomDone`.
  @inline(__always)
  private func visitPairs(_ atoms: AtomStore, pair: (Int32) -> Void, atomDone: () -> Void) {
    let cut2 = cutoff * cutoff
    let owned = atoms.ownedCount
    let x = atoms.position
    let half = kind == .half
    let stencil = half ? bins.upperStencil : bins.fullStencil
    let counts = bins.counts
    bins.binStart.withUnsafeBufferPointer { start in
      bins.binAtoms.withUnsafeBufferPointer { members in
        for i in 0..<owned {
          let xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2]
          let homeBin = Int(bins.atomBin[i])
          // Own bin: the tie-breaking rules of a half list, or everything but i for a full one.
          for s in Int(start[homeBin])..<Int(start[homeBin + 1]) {
            let j = Int(members[s])
            if j == i { continue }
            let dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi
            if half {
              if j < owned {
                if j < i { continue }
              } else if !(dz > 0 || (dz == 0 && (dy > 0 || (dy == 0 && dx > 0)))) {
                continue
              }
            }
            if dx * dx + dy * dy + dz * dz <= cut2 { pair(Int32(j)) }
          }
          let home = bins.binCoordinates(homeBin)
          for offset in stencil {
            let c = home &+ offset
            if c.x < 0 || c.y < 0 || c.z < 0 || c.x >= counts.x || c.y >= counts.y || c.z >= counts.z { continue }
            let b = bins.binIndex(c)
            for s in Int(start[b])..<Int(start[b + 1]) {
              let j = Int(members[s])
              let dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi
              if dx * dx + dy * dy + dz * dz <= cut2 { pair(Int32(j)) }
            }
          }
          atomDone()
        }
      }
    }
  }
}
