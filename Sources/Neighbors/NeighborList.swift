import Atoms
import Geometry

/// Which pairs a list holds.
public enum NeighborKind: Sendable {
  /// Every pair once across all ranks (Newton's third law on): owned–owned pairs with j > i, and an
  /// owned–ghost pair when the displacement from i to j is "upward" (z, then y, then x larger).
  /// The displacement of the mirrored copy on the other rank is the negation, so exactly one rank
  /// keeps each pair, also between an atom and its own periodic images.
  case half
  /// All neighbours of every owned atom, ghosts included (many-body potentials).
  case full
}

/// Neighbours of owned atoms in compressed-row form: `neighbors[offsets[i]..<offsets[i+1]]` are
/// local indices (owned or ghost) within `cutoff` of atom i, built from cell bins over owned and ghost
/// atoms.
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
    offsets.append(0)
    let cut2 = cutoff * cutoff
    let owned = atoms.ownedCount
    let x = atoms.position
    for i in 0..<owned {
      let xi = atoms.positionOf(i)
      bins.forEachCandidate(near: i) { j in
        if j == i { return }
        if kind == .half {
          if j < owned {
            if j < i { return }
          } else {
            let d = SIMD3(x[3 * j], x[3 * j + 1], x[3 * j + 2]) - xi
            if !(d.z > 0 || (d.z == 0 && (d.y > 0 || (d.y == 0 && d.x > 0)))) { return }
          }
        }
        let dx = x[3 * j] - xi.x, dy = x[3 * j + 1] - xi.y, dz = x[3 * j + 2] - xi.z
        if dx * dx + dy * dy + dz * dz < cut2 { neighbors.append(Int32(j)) }
      }
      offsets.append(Int32(neighbors.count))
    }
  }
}
