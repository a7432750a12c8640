import Atoms
import Decomposition
import Geometry
import TesseraTestSupport

/// An atom of the whole system: what every simulated rank starts from.
struct SystemAtom: Sendable {
  var tag: Int64
  var type: Int32
  /// Wrapped into the box.
  var position: SIMD3<Double>
  var velocity: SIMD3<Double>
  var image: SIMD3<Int32>
}

/// `count` atoms spread uniformly (in fractional coordinates) over `box`, with tags 1…count, types
/// 1…3 and random velocities and image flags.
func randomSystem(_ count: Int, box: Box, seed: UInt64, fractions: ((inout SeededRandom) -> SIMD3<Double>)? = nil)
  -> [SystemAtom] {
  var random = SeededRandom(seed: seed)
  return (1...count).map { tag in
    let lambda = fractions?(&random) ?? SIMD3(random.uniform(), random.uniform(), random.uniform())
    let velocity = SIMD3(random.uniform(), random.uniform(), random.uniform()) - 0.5
    let image = SIMD3(Int32(random.next() % 5) - 2, Int32(random.next() % 5) - 2, Int32(random.next() % 5) - 2)
    return SystemAtom(tag: Int64(tag), type: Int32(1 + tag % 3), position: box.lo + box.cartesian(fromFractional: lambda),
                      velocity: velocity, image: image)
  }
}

/// A ghost as the oracle names it: which atom, and which periodic image of it (in box vectors).
struct GhostKey: Hashable, Sendable, Comparable {
  var tag: Int64
  var image: SIMD3<Int>
  static func < (a: Self, b: Self) -> Bool {
    (a.tag, a.image.x, a.image.y, a.image.z) < (b.tag, b.image.x, b.image.y, b.image.z)
  }
}

/// The ghosts a brick must hold, counted by brute force over every atom and every periodic image
/// within reach: those whose fractional coordinates λ + n lie, in every dimension d, in
/// [lower_d − reach_d, upper_d + reach_d) (reach = ghost cutoff / face distance), less the brick's own
/// atoms (n = 0, inside the brick). This is the ghost shell LAMMPS's CommBrick builds; it is found
/// here without any swap. Along a fixed (non-periodic) dimension only image 0 exists.
func expectedGhosts(_ system: [SystemAtom], box: Box, grid: ProcessorGrid, cutoff: Double) -> Set<GhostKey> {
  let reach = cutoff / box.faceDistance
  let lower = grid.lower - reach, upper = grid.upper + reach
  let deepest = SIMD3<Int>(reach.rounded(.up)) &+ 1
  var ghosts = Set<GhostKey>()
  for atom in system {
    let lambda = box.fractional(atom.position)
    for a in -deepest.x...deepest.x {
      for b in -deepest.y...deepest.y {
        for c in -deepest.z...deepest.z {
          let n = SIMD3(a, b, c)
          if (0..<3).contains(where: { !box.periodic[$0] && n[$0] != 0 }) { continue }
          let shifted = lambda + SIMD3<Double>(n)
          guard (0..<3).allSatisfy({ shifted[$0] >= lower[$0] && shifted[$0] < upper[$0] }) else { continue }
          if n == .zero && grid.owner(ofFractional: lambda) == grid.rank { continue }
          ghosts.insert(GhostKey(tag: atom.tag, image: n))
        }
      }
    }
  }
  return ghosts
}

/// The dimension of the last stage of swaps a ghost of `key` arrives in: the last dimension along
/// which its image lies outside the brick (the staged swaps of x, then y, then z fill the shell so).
/// Along a dimension of one brick that stage's swaps are copies to oneself, not messages.
func arrivalDimension(_ key: GhostKey, system: [SystemAtom], box: Box, grid: ProcessorGrid) -> Int {
  let lambda = box.fractional(system[Int(key.tag) - 1].position) + SIMD3<Double>(key.image)
  return (0..<3).last { lambda[$0] < grid.lower[$0] || lambda[$0] >= grid.upper[$0] }!
}

/// One rank's atoms of `system`: those whose position it owns, in tag order.
func ownedAtoms(_ system: [SystemAtom], box: Box, grid: ProcessorGrid) -> AtomStore {
  let atoms = AtomStore()
  for atom in system where grid.owner(ofFractional: box.fractional(atom.position)) == grid.rank {
    atoms.appendOwned(tag: atom.tag, type: atom.type, position: atom.position, velocity: atom.velocity, image: atom.image)
  }
  return atoms
}

/// Which image of which atom ghost `i` of `atoms` is, read from its tag and position.
func ghostKey(_ atoms: AtomStore, _ i: Int, system: [SystemAtom], box: Box) -> GhostKey {
  let tag = atoms.tag[i]
  let original = system[Int(tag) - 1].position
  let shift = box.fractional(atoms.positionOf(i)) - box.fractional(original)
  return GhostKey(tag: tag, image: SIMD3<Int>(shift.rounded(.toNearestOrEven)))
}

/// Grids of 1 to 8 ranks: single bricks, slabs, pencils, cubes and thin 8 × 1 × 1 bricks (several
/// hops per direction).
let testGrids: [SIMD3<Int>] = [
  SIMD3(1, 1, 1), SIMD3(2, 1, 1), SIMD3(1, 3, 1), SIMD3(2, 2, 1), SIMD3(1, 1, 5), SIMD3(3, 2, 1),
  SIMD3(1, 7, 1), SIMD3(2, 2, 2), SIMD3(8, 1, 1),
]

/// An orthogonal box, one with a fixed y boundary, a triclinic one, and one smaller than the cutoff
/// (ghosts several images deep).
let testBoxes: [(name: String, box: Box)] = [
  ("orthogonal", Box(lo: SIMD3(-1, 0.5, 2), hi: SIMD3(6.5, 7.0, 9.8))),
  ("fixed in y", Box(lo: SIMD3(0, 0, 0), hi: SIMD3(6.8, 7.2, 6.4), periodic: [true, false, true])),
  ("triclinic", Box(lo: SIMD3(0.3, -1, 0), hi: SIMD3(7.3, 6.2, 6.6), xy: 1.9, xz: -1.4, yz: 0.8)),
  ("tiny triclinic", Box(lo: .zero, hi: SIMD3(2.1, 1.8, 2.4), xy: 0.5, xz: 0.3, yz: -0.6)),
]
