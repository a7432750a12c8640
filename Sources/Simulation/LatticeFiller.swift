import Atoms
import Decomposition
import Geometry

/// Creates the lattice points of one rank's brick that lie in the box (and region).
///
/// Tags come from the point's position in the global lattice (cell indices and basis index), so they
/// are the same whatever the number of ranks and sort in LAMMPS's creation order (z, y, x, basis); the caller
/// renumbers them consecutively. A point within 2·10⁻⁶ of a periodic upper face is left
/// out and one up to 10⁻⁶ below the lower face kept (LAMMPS's margins), so round-off in fractional
/// coordinates never creates an atom twice or not at all.
struct LatticeFiller {
  let lattice: Lattice
  let box: Box
  let grid: ProcessorGrid
  let region: Region?

  /// Lattice points a box may hold: ids stay exact in a Double and the loops finish.
  static let pointLimit = 1e13

  /// The number of lattice points the box spans (an upper bound on the atoms `fill` creates).
  /// Counted in floating point, as an absurd box would overflow the integer cell indices.
  func pointCount() -> Double {
    let (lo, hi) = extent(from: .zero, to: SIMD3(repeating: 1))
    let a = lattice.constant
    var cells = 1.0
    for d in 0..<3 { cells *= max(1, (hi[d] / a).rounded(.up) - (lo[d] / a).rounded(.down)) }
    return cells * Double(lattice.basis.count)
  }

  func fill(into atoms: AtomStore, type: Int32) -> Int {
    let a = lattice.constant
    // Cells of the whole box number the ids; only the cells around this rank's brick are visited.
    let (first, last) = cellRange(from: .zero, to: SIMD3(repeating: 1))
    let cells = last &- first &+ 1
    let (brickFirst, brickLast) = cellRange(from: grid.lower, to: grid.upper)
    let basisCount = lattice.basis.count
    var created = 0
    let margin = 2e-6
    for k in max(first.z, brickFirst.z - 1)...min(last.z, brickLast.z) {
      for j in max(first.y, brickFirst.y - 1)...min(last.y, brickLast.y) {
        for i in max(first.x, brickFirst.x - 1)...min(last.x, brickLast.x) {
          for (b, offset) in lattice.basis.enumerated() {
            let x = (SIMD3(Double(i), Double(j), Double(k)) + offset) * a + lattice.origin * a
            let lambda = box.fractional(x)
            var inside = true
            for d in 0..<3 {
              let lower = box.periodic[d] ? -0.5 * margin : 0.0, upper = box.periodic[d] ? 1 - margin : 1.0
              if lambda[d] < lower || lambda[d] >= upper { inside = false }
            }
            guard inside, grid.owner(ofFractional: lambda) == grid.rank else { continue }
            if let region, !region.contains(x) { continue }
            let cellIndex = (i - first.x) + cells.x * ((j - first.y) + cells.y * (k - first.z))
            let tag = Int64(cellIndex * basisCount + b + 1)
            atoms.appendOwned(tag: tag, type: type, position: x)
            created += 1
          }
        }
      }
    }
    return created
  }

  /// The Cartesian bounding box of the fractional block [lower, upper].
  private func extent(from lower: SIMD3<Double>, to upper: SIMD3<Double>) -> (SIMD3<Double>, SIMD3<Double>) {
    var lo = SIMD3<Double>(repeating: .infinity), hi = SIMD3<Double>(repeating: -.infinity)
    for corner in 0..<8 {
      var f = lower
      for d in 0..<3 where (corner >> d) & 1 == 1 { f[d] = upper[d] }
      let x = box.lo + box.cartesian(fromFractional: f)
      lo = pointwiseMin(lo, x)
      hi = pointwiseMax(hi, x)
    }
    return (lo, hi)
  }

  private func cellRange(from lower: SIMD3<Double>, to upper: SIMD3<Double>) -> (SIMD3<Int>, SIMD3<Int>) {
    let (lo, hi) = extent(from: lower, to: upper)
    let a = lattice.constant
    var first = SIMD3<Int>(), last = SIMD3<Int>()
    for d in 0..<3 {
      // With an origin shift a cell's points reach into the next cell up.
      first[d] = Int((lo[d] / a).rounded(.down)) - (lattice.origin[d] > 0 ? 1 : 0)
      last[d] = max(first[d], Int((hi[d] / a).rounded(.up)) - 1)
    }
    return (first, last)
  }
}
