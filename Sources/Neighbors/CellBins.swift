import Atoms
import Geometry

/// Owned and ghost atoms sorted into bins in fractional coordinates, each bin at least one cutoff
/// wide along every dimension (measured between the box's faces), so the 27 bins around an atom's
/// bin contain every atom within the cutoff, for orthogonal and triclinic boxes alike.
final class CellBins {
  private var counts = SIMD3<Int>(1, 1, 1)
  private var origin = SIMD3<Double>(repeating: 0)
  private var inverseWidth = SIMD3<Double>(repeating: 1)
  private var binStart: [Int32] = []
  private var binAtoms: [Int32] = []
  private var atomBin: [Int32] = []

  func assign(_ atoms: AtomStore, box: Box, cutoff: Double) {
    let n = atoms.totalCount
    // Extent of all atoms in fractional coordinates.
    var lo = SIMD3<Double>(repeating: .infinity), hi = SIMD3<Double>(repeating: -.infinity)
    var lambdas = [SIMD3<Double>](repeating: .zero, count: n)
    for i in 0..<n {
      let l = box.fractional(atoms.positionOf(i))
      lambdas[i] = l
      lo = pointwiseMin(lo, l)
      hi = pointwiseMax(hi, l)
    }
    if n == 0 { lo = .zero; hi = .zero }
    let reach = cutoff / box.faceDistance
    for d in 0..<3 {
      let span = max(hi[d] - lo[d], 1e-300)
      counts[d] = max(1, min(Int(span / reach[d]), 1 << 10))
      inverseWidth[d] = Double(counts[d]) / span
    }
    origin = lo
    let total = counts.x * counts.y * counts.z
    atomBin = [Int32](repeating: 0, count: n)
    var fill = [Int32](repeating: 0, count: total + 1)
    for i in 0..<n {
      let b = binIndex(binCoordinates(lambdas[i]))
      atomBin[i] = Int32(b)
      fill[b + 1] += 1
    }
    for b in 0..<total { fill[b + 1] += fill[b] }
    binStart = fill
    binAtoms = [Int32](repeating: 0, count: n)
    for i in 0..<n {
      let b = Int(atomBin[i])
      binAtoms[Int(fill[b])] = Int32(i)
      fill[b] += 1
    }
  }

  @inline(__always)
  private func binCoordinates(_ l: SIMD3<Double>) -> SIMD3<Int> {
    var c = SIMD3<Int>()
    for d in 0..<3 { c[d] = min(max(Int(((l[d] - origin[d]) * inverseWidth[d]).rounded(.down)), 0), counts[d] - 1) }
    return c
  }

  @inline(__always)
  private func binIndex(_ c: SIMD3<Int>) -> Int { c.x + counts.x * (c.y + counts.y * c.z) }

  /// Calls `body` with every atom in the bins around atom `i`'s bin (including `i`).
  @inline(__always)
  func forEachCandidate(near i: Int, _ body: (Int) -> Void) {
    let b = Int(atomBin[i])
    let c = SIMD3(b % counts.x, (b / counts.x) % counts.y, b / (counts.x * counts.y))
    for z in max(c.z - 1, 0)...min(c.z + 1, counts.z - 1) {
      for y in max(c.y - 1, 0)...min(c.y + 1, counts.y - 1) {
        for x in max(c.x - 1, 0)...min(c.x + 1, counts.x - 1) {
          let k = binIndex(SIMD3(x, y, z))
          for s in Int(binStart[k])..<Int(binStart[k + 1]) { body(Int(binAtoms[s])) }
        }
      }
    }
  }
}
