import Atoms
import Geometry

/// Owned and ghost atoms sorted into bins of a lattice fixed to the box in fractional coordinates.
///
/// Bin edges sit at multiples of 1/n along each box dimension, the same on every rank (as LAMMPS's
/// global bin grid). A bin is at least one cutoff wide between its faces when the box allows it, so
/// the 27 bins around an atom's bin hold every atom within the cutoff, in orthogonal and triclinic
/// boxes alike; in a box thinner than the cutoff a bin spans the whole box and the stencil reaches
/// several bins out. Because every rank uses the same grid and a periodic shift moves an atom by
/// a whole number of bins, the bin offset between two atoms seen on one rank is the negation of the
/// offset between their copies on another, which is what lets a half list split pairs by bin
/// offset (see `NeighborList`).
final class CellBins {
  private(set) var counts = SIMD3<Int>(1, 1, 1)
  private var first = SIMD3<Int>(0, 0, 0)
  private var perUnit = SIMD3<Double>(1, 1, 1)
  private(set) var binStart: [Int32] = []
  private(set) var binAtoms: [Int32] = []
  private(set) var atomBin: [Int32] = []
  /// Offsets of the bins to search around a bin (the home bin excluded).
  private(set) var fullStencil: [SIMD3<Int>] = []
  /// The "upper" half of `fullStencil` (z, then y, then x positive), for half lists.
  private(set) var upperStencil: [SIMD3<Int>] = []

  /// At most this many bins per box volume. Cutoff-wide bins over a box much larger than the cutoff
  /// with few atoms in it (the bounding box of a cluster spread far apart) would be mostly empty;
  /// wider bins only lengthen the stencil's scan, the list holds the same pairs. It depends on the box
  /// and the cutoff alone, so every rank still uses the same grid; a box with this many cutoff-wide
  /// bins holds tens of millions of atoms at any condensed density.
  static let binsPerBoxLimit = 1 << 22

  func assign(_ atoms: AtomStore, box: Box, cutoff: Double) {
    let n = atoms.totalCount
    let reach = cutoff / box.faceDistance
    for d in 0..<3 { perUnit[d] = max(1, (1 / reach[d]).rounded(.down)) }
    while perUnit.x * perUnit.y * perUnit.z > Double(Self.binsPerBoxLimit) {
      for d in 0..<3 { perUnit[d] = max(1, (perUnit[d] / 2).rounded(.down)) }
    }
    makeStencils(extent: SIMD3<Int>((reach * perUnit).rounded(.up)))
    var coordinates = [SIMD3<Int>](repeating: .zero, count: n)
    var lo = SIMD3<Int>(repeating: .max), hi = SIMD3<Int>(repeating: .min)
    for i in 0..<n {
      let l = box.fractional(atoms.positionOf(i)) * perUnit
      let c = SIMD3<Int>(Int(l.x.rounded(.down)), Int(l.y.rounded(.down)), Int(l.z.rounded(.down)))
      coordinates[i] = c
      lo = pointwiseMin(lo, c)
      hi = pointwiseMax(hi, c)
    }
    if n == 0 { lo = .zero; hi = .zero }
    first = lo
    counts = hi &- lo &+ 1
    let total = counts.x * counts.y * counts.z
    atomBin = [Int32](repeating: 0, count: n)
    var fill = [Int32](repeating: 0, count: total + 1)
    for i in 0..<n {
      let b = binIndex(coordinates[i] &- first)
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
  func binIndex(_ c: SIMD3<Int>) -> Int { c.x + counts.x * (c.y + counts.y * c.z) }

  @inline(__always)
  func binCoordinates(_ b: Int) -> SIMD3<Int> {
    SIMD3(b % counts.x, (b / counts.x) % counts.y, b / (counts.x * counts.y))
  }

  private func makeStencils(extent e: SIMD3<Int>) {
    fullStencil.removeAll(keepingCapacity: true)
    for z in -e.z...e.z {
      for y in -e.y...e.y {
        for x in -e.x...e.x where (x, y, z) != (0, 0, 0) { fullStencil.append(SIMD3(x, y, z)) }
      }
    }
    upperStencil = fullStencil.filter { $0.z > 0 || ($0.z == 0 && ($0.y > 0 || ($0.y == 0 && $0.x > 0))) }
  }
}
